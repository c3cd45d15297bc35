#!/usr/bin/env python3
"""The public API of tonic-authz as a sorted list of lines, one per item, read from rustdoc's
JSON output (`cargo +nightly rustdoc -p tonic-authz --all-features --lib -- -Z unstable-options
--output-format json`). `.ci/public-api` compares it with docs/public-api.txt.

Each line is one public item at its public path: modules, types with their public fields and
variants, functions and methods with their signatures, trait items, constants, type aliases,
re-exports of other crates, and the non-auto trait impls of public types. Items hidden from
the docs (`#[doc(hidden)]`, such as the `fuzzing` module) are not in rustdoc's output and so not
here either.
"""

import json
import sys


def main(path):
    doc = json.load(open(path))
    lines = Surface(doc).walk()
    sys.stdout.write("".join(line + "\n" for line in sorted(set(lines))))


# Trait impls every derive(PartialEq) adds; they say nothing a reader needs.
NOISE = set()


class Surface:
    def __init__(self, doc):
        self.index = doc["index"]
        self.paths = doc["paths"]
        self.root = str(doc["root"])
        for id_, summary in self.paths.items():
            if summary["path"][-1] == "StructuralPartialEq":
                NOISE.add(int(id_))
        self.public = {}  # local item id -> public path
        self.lines = []

    def item(self, id_):
        return self.index.get(str(id_))

    # --- walking the public modules ------------------------------------------------------

    def walk(self):
        self.collect(self.root, "tonic_authz")
        self.emit_module(self.root, "tonic_authz")
        return self.lines

    def children(self, module_id):
        """(name, item id or None, external source) for each public item of a module."""
        out = []
        for child in self.item(module_id)["inner"]["module"]["items"]:
            item = self.item(child)
            if item is None or item["visibility"] != "public":
                continue
            inner = item["inner"]
            if "use" in inner:
                use = inner["use"]
                target = self.item(use["id"]) if use["id"] is not None else None
                if use["is_glob"] and target is not None and "module" in target["inner"]:
                    out.extend(self.children(str(use["id"])))
                elif target is None or target["crate_id"] != 0:
                    out.append((use["name"], None, use["source"]))
                else:
                    out.append((use["name"], str(use["id"]), None))
            else:
                out.append((item["name"], str(child), None))
        return out

    def collect(self, module_id, path):
        for name, id_, _ in self.children(module_id):
            if id_ is None or id_ in self.public:
                continue
            self.public[id_] = f"{path}::{name}"
            if "module" in self.item(id_)["inner"]:
                self.collect(id_, f"{path}::{name}")

    def emit_module(self, module_id, path):
        for name, id_, source in self.children(module_id):
            full = f"{path}::{name}"
            if id_ is None:
                self.lines.append(f"pub use {full} (= {source})")
                continue
            item = self.item(id_)
            kind, inner = next(iter(item["inner"].items()))
            marker = "#[non_exhaustive] " if self.non_exhaustive(item) else ""
            if kind == "module":
                self.lines.append(f"pub mod {full}")
                self.emit_module(id_, full)
            elif kind == "struct":
                self.lines.append(f"{marker}pub struct {full}{self.generics(inner['generics'])}")
                shape = inner["kind"]  # "unit", {"plain": ...} or {"tuple": ...}
                fields = []
                if isinstance(shape, dict) and "plain" in shape:
                    fields = shape["plain"]["fields"]
                elif isinstance(shape, dict) and "tuple" in shape:
                    fields = [f for f in shape["tuple"] if f is not None]
                for field in fields:
                    f = self.item(field)
                    if f["visibility"] == "public":
                        ty = self.ty(f["inner"]["struct_field"])
                        self.lines.append(f"pub {full}.{f['name']}: {ty}")
                self.emit_impls(full, inner["impls"])
            elif kind == "enum":
                self.lines.append(f"{marker}pub enum {full}{self.generics(inner['generics'])}")
                for variant in inner["variants"]:
                    v = self.item(variant)
                    vmarker = "#[non_exhaustive] " if self.non_exhaustive(v) else ""
                    self.lines.append(f"{vmarker}{full}::{v['name']}{self.variant(v)}")
                self.emit_impls(full, inner["impls"])
            elif kind == "union":
                self.lines.append(f"pub union {full}")
            elif kind == "trait":
                bounds = self.bounds(inner["bounds"])
                self.lines.append(
                    f"pub trait {full}{self.generics(inner['generics'])}"
                    + (f": {bounds}" if bounds else "")
                )
                for member in inner["items"]:
                    self.emit_member(f"{full}::", self.item(member))
                # Its implementations, blanket ones (closures) included.
                self.emit_impls(None, inner["implementations"], blanket=True)
            elif kind == "function":
                self.lines.append(f"pub {self.function(full, inner)}")
            elif kind == "constant":
                self.lines.append(f"pub const {full}: {self.ty(inner['type'])}")
            elif kind == "static":
                self.lines.append(f"pub static {full}: {self.ty(inner['type'])}")
            elif kind == "type_alias":
                generics = self.generics(inner["generics"])
                self.lines.append(f"pub type {full}{generics} = {self.ty(inner['type'])}")
            elif kind == "macro":
                self.lines.append(f"macro {full}!")
            else:
                self.lines.append(f"{kind} {full}")

    def emit_impls(self, owner, impl_ids, blanket=False):
        for impl_id in impl_ids:
            impl = self.item(impl_id)["inner"]["impl"]
            if impl["is_synthetic"] or (impl["blanket_impl"] is not None and not blanket):
                continue
            if impl["trait"] is not None and impl["trait"]["id"] in NOISE:
                continue
            if impl["trait"] is None:
                for member in impl["items"]:
                    m = self.item(member)
                    if m["visibility"] == "public":
                        self.emit_member(f"{owner}::", m)
            else:
                generics = self.generics(impl["generics"])
                trait = self.path(impl["trait"])
                where = self.where_clause(impl["generics"])
                self.lines.append(f"impl{generics} {trait} for {self.ty(impl['for'])}{where}")

    def emit_member(self, prefix, item):
        kind, inner = next(iter(item["inner"].items()))
        full = prefix + item["name"]
        if kind == "function":
            self.lines.append(f"pub {self.function(full, inner)}")
        elif kind == "assoc_const":
            self.lines.append(f"pub const {full}: {self.ty(inner['type'])}")
        elif kind == "assoc_type":
            bounds = self.bounds(inner["bounds"])
            self.lines.append(f"type {full}" + (f": {bounds}" if bounds else ""))
        else:
            self.lines.append(f"{kind} {full}")

    # --- rendering -----------------------------------------------------------------------

    @staticmethod
    def non_exhaustive(item):
        return any(a == "non_exhaustive" or a == "#[non_exhaustive]" for a in item["attrs"])

    def variant(self, item):
        kind = item["inner"]["variant"]["kind"]
        if kind == "plain":
            return ""
        if "tuple" in kind:
            fields = [self.item(f) for f in kind["tuple"] if f is not None]
            return "(" + ", ".join(self.ty(f["inner"]["struct_field"]) for f in fields) + ")"
        fields = [self.item(f) for f in kind["struct"]["fields"]]
        inner = ", ".join(f"{f['name']}: {self.ty(f['inner']['struct_field'])}" for f in fields)
        return " { " + inner + " }"

    def function(self, full, inner):
        header = inner["header"]
        qualifiers = ""
        if header["is_const"]:
            qualifiers += "const "
        if header["is_async"]:
            qualifiers += "async "
        if header["is_unsafe"]:
            qualifiers += "unsafe "
        sig = inner["sig"]
        args = []
        for name, ty in sig["inputs"]:
            if name == "self":
                if ty == {"generic": "Self"}:
                    args.append("self")
                elif "borrowed_ref" in ty and ty["borrowed_ref"]["type"] == {"generic": "Self"}:
                    ref = ty["borrowed_ref"]
                    lifetime = f"{ref['lifetime']} " if ref["lifetime"] else ""
                    args.append(f"&{lifetime}{'mut ' if ref['is_mutable'] else ''}self")
                else:
                    args.append(f"self: {self.ty(ty)}")
            else:
                args.append(f"{name}: {self.ty(ty)}")
        output = f" -> {self.ty(sig['output'])}" if sig["output"] is not None else ""
        generics = self.generics(inner["generics"])
        where = self.where_clause(inner["generics"])
        return f"{qualifiers}fn {full}{generics}({', '.join(args)}){output}{where}"

    def generics(self, generics):
        params = []
        for p in generics["params"]:
            kind = p["kind"]
            if "lifetime" in kind:
                outlives = kind["lifetime"]["outlives"]
                params.append(p["name"] + (": " + " + ".join(outlives) if outlives else ""))
            elif "type" in kind:
                if kind["type"]["is_synthetic"]:
                    continue
                bounds = self.bounds(kind["type"]["bounds"])
                params.append(p["name"] + (f": {bounds}" if bounds else ""))
            elif "const" in kind:
                params.append(f"const {p['name']}: {self.ty(kind['const']['type'])}")
        return f"<{', '.join(params)}>" if params else ""

    def where_clause(self, generics):
        preds = []
        for pred in generics["where_predicates"]:
            if "bound_predicate" in pred:
                b = pred["bound_predicate"]
                preds.append(f"{self.ty(b['type'])}: {self.bounds(b['bounds'])}")
            elif "lifetime_predicate" in pred:
                lp = pred["lifetime_predicate"]
                preds.append(f"{lp['lifetime']}: {' + '.join(lp['outlives'])}")
            elif "eq_predicate" in pred:
                e = pred["eq_predicate"]
                preds.append(f"{self.ty(e['lhs'])} = {self.term(e['rhs'])}")
        return f" where {', '.join(preds)}" if preds else ""

    def bounds(self, bounds):
        out = []
        for b in bounds:
            if "trait_bound" in b:
                t = b["trait_bound"]
                prefix = "?" if t["modifier"] == "maybe" else ""
                hrtb = ""
                if t["generic_params"]:
                    hrtb = "for<" + ", ".join(p["name"] for p in t["generic_params"]) + "> "
                out.append(f"{hrtb}{prefix}{self.path(t['trait'])}")
            elif "outlives" in b:
                out.append(b["outlives"])
            elif "use" in b:
                out.append("use<..>")
        return " + ".join(out)

    def path(self, p):
        """A resolved path: local items at their public path, others at their crate path."""
        id_ = str(p["id"]) if p.get("id") is not None else None
        if id_ in self.public:
            name = self.public[id_]
        elif id_ in self.paths:
            name = "::".join(self.paths[id_]["path"])
        else:
            name = p["path"]
        return name + self.args(p.get("args"))

    def args(self, args):
        if not args:
            return ""
        if "angle_bracketed" in args:
            ab = args["angle_bracketed"]
            parts = []
            for a in ab["args"]:
                if "type" in a:
                    parts.append(self.ty(a["type"]))
                elif "lifetime" in a:
                    parts.append(a["lifetime"])
                elif "const" in a:
                    parts.append(a["const"].get("expr", "_"))
                else:
                    parts.append("_")
            for c in ab["constraints"]:
                binding = c["binding"]
                if "equality" in binding:
                    parts.append(f"{c['name']} = {self.term(binding['equality'])}")
                else:
                    parts.append(f"{c['name']}: {self.bounds(binding['constraint'])}")
            return f"<{', '.join(parts)}>" if parts else ""
        if "parenthesized" in args:
            p = args["parenthesized"]
            out = f" -> {self.ty(p['output'])}" if p["output"] else ""
            return "(" + ", ".join(self.ty(t) for t in p["inputs"]) + ")" + out
        return ""

    def term(self, term):
        if "type" in term:
            return self.ty(term["type"])
        return term.get("constant", {}).get("expr", "_")

    def ty(self, t):
        if t is None:
            return "()"
        kind, v = next(iter(t.items()))
        if kind == "resolved_path":
            return self.path(v)
        if kind in ("generic", "primitive"):
            return v
        if kind == "borrowed_ref":
            lifetime = f"{v['lifetime']} " if v["lifetime"] else ""
            return f"&{lifetime}{'mut ' if v['is_mutable'] else ''}{self.ty(v['type'])}"
        if kind == "tuple":
            return "(" + ", ".join(self.ty(x) for x in v) + ")"
        if kind == "slice":
            return f"[{self.ty(v)}]"
        if kind == "array":
            return f"[{self.ty(v['type'])}; {v['len']}]"
        if kind == "impl_trait":
            return "impl " + self.bounds(v)
        if kind == "dyn_trait":
            traits = [self.path(x["trait"]) for x in v["traits"]]
            if v.get("lifetime"):
                traits.append(v["lifetime"])
            return "dyn " + " + ".join(traits)
        if kind == "raw_pointer":
            return f"*{'mut' if v['is_mutable'] else 'const'} {self.ty(v['type'])}"
        if kind == "qualified_path":
            trait = self.path(v["trait"]) if v.get("trait") else "_"
            return f"<{self.ty(v['self_type'])} as {trait}>::{v['name']}"
        if kind == "function_pointer":
            sig = v["sig"]
            out = f" -> {self.ty(sig['output'])}" if sig["output"] else ""
            return "fn(" + ", ".join(self.ty(x[1]) for x in sig["inputs"]) + ")" + out
        if kind == "infer":
            return "_"
        return kind


if __name__ == "__main__":
    main(sys.argv[1])
