//! Generates the tonic server and client code for Temporal's `WorkflowService` and
//! `OperatorService` from the descriptor set that `temporalio-protos` builds, so the examples
//! serve the real Temporal API with the official message types and need no `protoc`.
//!
//! `temporalio-protos` declares `links = "temporalio_protos"` and prints
//! `cargo:descriptor_path=…`, which Cargo hands to dependents as
//! `DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH`. Only the two service packages are generated here;
//! every message type is taken from `temporalio_protos` through `extern_path`.

use std::{env, fs, path::PathBuf};

use prost::Message;

/// Packages whose services we generate.
const SERVICE_PACKAGES: &[&str] = &[
    "temporal.api.workflowservice.v1",
    "temporal.api.operatorservice.v1",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let descriptor_path = env::var_os("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH")
        .ok_or("DEP_TEMPORALIO_PROTOS_DESCRIPTOR_PATH is not set by temporalio-protos")?;
    println!(
        "cargo:rerun-if-changed={}",
        PathBuf::from(&descriptor_path).display()
    );
    let bytes = fs::read(&descriptor_path)?;

    // Tests compare the library's namespace-field table with these official descriptors.
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    fs::write(out_dir.join("temporal_descriptor_set.bin"), &bytes)?;

    let mut fds = prost_types::FileDescriptorSet::decode(bytes.as_slice())?;
    // Generate only the service packages: everything else is an extern type anyway, and
    // keeping unrelated packages (coresdk, health, …) out avoids duplicate message types.
    fds.file
        .retain(|file| SERVICE_PACKAGES.contains(&file.package()));

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .extern_path(".temporal", "::temporalio_protos::protos::temporal")
        .extern_path(".google", "::prost_wkt_types")
        .compile_fds(fds)?;
    Ok(())
}
