//! The demo service of `proto/demo/v1/demo.proto` compiles, has the shapes the layer tests rely
//! on, and agrees with the hand-written prost structs of `tests/common/demo.rs`.

mod common;

use std::fmt::Debug;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, Value};

use common::demo::{self, *};

/// Encodes a fully populated `sample`, decodes it against the descriptor `full_name`, and checks
/// that every descriptor field is set and nothing is unknown: the struct and the descriptor
/// agree on every field number and wire type. Returns the dynamic message for further checks.
fn agrees<M>(pool: &DescriptorPool, full_name: &str, sample: &M) -> DynamicMessage
where
    M: Message + Default + PartialEq + Debug,
{
    let descriptor = pool
        .get_message_by_name(full_name)
        .unwrap_or_else(|| panic!("{full_name} is in the pool"));
    let bytes = sample.encode_to_vec();
    let dynamic = DynamicMessage::decode(descriptor.clone(), bytes.as_slice())
        .unwrap_or_else(|e| panic!("{full_name} decodes: {e}"));
    assert_eq!(
        dynamic.unknown_fields().count(),
        0,
        "{full_name}: the struct has fields the descriptor does not"
    );
    for field in descriptor.fields() {
        assert!(
            dynamic.has_field(&field),
            "{full_name}.{} is missing from the struct (or the sample leaves it unset)",
            field.name()
        );
    }
    assert_eq!(
        M::decode(dynamic.encode_to_vec().as_slice()).expect("re-decodes"),
        *sample,
        "{full_name} round-trips"
    );
    dynamic
}

fn string_field(message: &DynamicMessage, name: &str) -> String {
    match message.get_field_by_name(name).as_deref() {
        Some(Value::String(s)) => s.clone(),
        other => panic!("{name} is not a string field: {other:?}"),
    }
}

fn order(ns: &str) -> Order {
    Order {
        namespace: ns.to_owned(),
        item: "widget".to_owned(),
        count: 2,
    }
}

#[test]
fn hand_written_structs_match_the_descriptors() {
    let pool = demo::descriptor_pool();

    let create = agrees(
        &pool,
        "demo.v1.CreateOrderRequest",
        &create_order("acme", "other"),
    );
    assert_eq!(string_field(&create, "namespace"), "acme");
    match create.get_field_by_name("order").as_deref() {
        Some(Value::Message(nested)) => assert_eq!(string_field(nested, "namespace"), "other"),
        other => panic!("order is a message: {other:?}"),
    }

    agrees(&pool, "demo.v1.Order", &order("acme"));
    agrees(
        &pool,
        "demo.v1.CreateOrderResponse",
        &CreateOrderResponse {
            order_id: "o".to_owned(),
        },
    );
    agrees(
        &pool,
        "demo.v1.GetServerInfoRequest",
        &GetServerInfoRequest { verbose: true },
    );
    agrees(
        &pool,
        "demo.v1.GetServerInfoResponse",
        &GetServerInfoResponse {
            version: "1".to_owned(),
        },
    );
    let watch = agrees(
        &pool,
        "demo.v1.WatchOrdersRequest",
        &WatchOrdersRequest {
            order_id: "o".to_owned(),
            namespace: "acme".to_owned(),
        },
    );
    assert_eq!(string_field(&watch, "namespace"), "acme");
    agrees(
        &pool,
        "demo.v1.OrderEvent",
        &OrderEvent {
            order_id: "o".to_owned(),
            kind: "created".to_owned(),
            order: Some(order("acme")),
        },
    );
    let upload = agrees(
        &pool,
        "demo.v1.UploadOrdersRequest",
        &UploadOrdersRequest {
            namespace: "acme".to_owned(),
            order: Some(order("acme")),
        },
    );
    assert_eq!(string_field(&upload, "namespace"), "acme");
    agrees(
        &pool,
        "demo.v1.UploadOrdersResponse",
        &UploadOrdersResponse { accepted: 9 },
    );
    let tenant = agrees(
        &pool,
        "demo.v1.DescribeTenantRequest",
        &DescribeTenantRequest {
            region: "eu".to_owned(),
            include_usage: true,
            tenant: "acme".to_owned(),
        },
    );
    assert_eq!(
        string_field(&tenant, DESCRIBE_TENANT_NAMESPACE_FIELD_NAME),
        "acme"
    );
    agrees(
        &pool,
        "demo.v1.DescribeTenantResponse",
        &DescribeTenantResponse {
            tenant: "acme".to_owned(),
            order_count: 5,
        },
    );
}

#[test]
fn service_has_every_call_shape() {
    let pool = demo::descriptor_pool();
    let service = pool.get_service_by_name(SERVICE).expect("service exists");
    let shapes: Vec<(String, bool, bool, String)> = service
        .methods()
        .map(|m| {
            (
                format!("/{}/{}", service.full_name(), m.name()),
                m.is_client_streaming(),
                m.is_server_streaming(),
                m.input().full_name().to_owned(),
            )
        })
        .collect();
    let expected = [
        (CREATE_ORDER, false, false, "demo.v1.CreateOrderRequest"),
        (
            GET_SERVER_INFO,
            false,
            false,
            "demo.v1.GetServerInfoRequest",
        ),
        (WATCH_ORDERS, false, true, "demo.v1.WatchOrdersRequest"),
        (UPLOAD_ORDERS, true, false, "demo.v1.UploadOrdersRequest"),
        (SYNC_ORDERS, true, true, "demo.v1.UploadOrdersRequest"),
        (
            DESCRIBE_TENANT,
            false,
            false,
            "demo.v1.DescribeTenantRequest",
        ),
    ]
    .map(|(p, c, s, i)| (p.to_owned(), c, s, i.to_owned()));
    assert_eq!(shapes, expected);
}

#[test]
fn namespace_fields_are_where_the_tests_expect() {
    let pool = demo::descriptor_pool();
    let field = |message: &str, name: &str| {
        let f = pool
            .get_message_by_name(message)
            .expect("message exists")
            .get_field_by_name(name)
            .unwrap_or_else(|| panic!("{message}.{name} exists"));
        assert_eq!(f.kind(), Kind::String, "{message}.{name} is a string");
        assert!(!f.is_list(), "{message}.{name} is singular");
        f.number()
    };
    assert_eq!(
        field("demo.v1.CreateOrderRequest", "namespace"),
        CREATE_ORDER_NAMESPACE_FIELD
    );
    assert_eq!(field("demo.v1.Order", "namespace"), 1);
    assert_eq!(
        field("demo.v1.WatchOrdersRequest", "namespace"),
        WATCH_ORDERS_NAMESPACE_FIELD
    );
    assert_eq!(
        field("demo.v1.UploadOrdersRequest", "namespace"),
        UPLOAD_ORDERS_NAMESPACE_FIELD
    );
    assert_eq!(
        field(
            "demo.v1.DescribeTenantRequest",
            DESCRIBE_TENANT_NAMESPACE_FIELD_NAME
        ),
        DESCRIBE_TENANT_NAMESPACE_FIELD
    );

    // No namespace where the tests rely on there being none.
    for message in [
        "demo.v1.GetServerInfoRequest",
        "demo.v1.DescribeTenantRequest",
    ] {
        let descriptor = pool.get_message_by_name(message).expect("message exists");
        assert!(
            descriptor.get_field_by_name("namespace").is_none(),
            "{message}"
        );
    }
    // The nested order precedes the request's namespace on the wire.
    let create = pool
        .get_message_by_name("demo.v1.CreateOrderRequest")
        .expect("message exists");
    let order = create.get_field_by_name("order").expect("order exists");
    assert!(order.number() < CREATE_ORDER_NAMESPACE_FIELD);
    assert_eq!(
        create_order("acme", "other").encode_to_vec()[0],
        0x0a,
        "field 1 (order_id) is first on the wire"
    );
}
