//! The intake API's reference page, rendered from the OpenAPI document itself (so it says what
//! `/api/v1/openapi.json` says): operations with their parameters, parts and answers, then every
//! schema with its fields and constraints. Self-contained: our stylesheet, no script, no CDN.

use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref")?.as_str()?.rsplit('/').next()
}

/// A schema in one line: a link for a reference, the type with its constraints otherwise.
fn type_of(s: &Value) -> Markup {
    if let Some(name) = ref_name(s) {
        return html! { a href={ "#schema-" (name) } { (name) } };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            return html! {
                @for (i, a) in alts.iter().enumerate() {
                    @if i > 0 { " | " }
                    (type_of(a))
                }
            };
        }
    }
    let ty = match s.get("type") {
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        Some(Value::String(t)) => t.clone(),
        _ => String::new(),
    };
    html! {
        @if ty.contains("array") {
            "array of " (type_of(s.get("items").unwrap_or(&Value::Null)))
            @if ty.contains("null") { " | null" }
        } @else {
            code { (ty) }
        }
        @if let Some(e) = s.get("enum").and_then(Value::as_array) {
            " — "
            @for (i, v) in e.iter().enumerate() {
                @if i > 0 { ", " }
                code { (v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())) }
            }
        }
        (constraints(s))
    }
}

fn constraints(s: &Value) -> Markup {
    let mut parts = Vec::new();
    for (key, label) in [
        ("format", "format"),
        ("pattern", "pattern"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("contentMediaType", "content"),
    ] {
        if let Some(v) = s.get(key) {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            parts.push(format!("{label} {v}"));
        }
    }
    html! {
        @if !parts.is_empty() { " " small { "(" (parts.join("; ")) ")" } }
    }
}

fn example(v: Option<&Value>) -> Markup {
    html! {
        @if let Some(e) = v {
            pre { (serde_json::to_string_pretty(e).unwrap_or_default()) }
        }
    }
}

fn properties(s: &Value) -> Markup {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return html! { p { (type_of(s)) } };
    };
    html! {
        table {
            thead { tr { th { "field" } th { "type" } th { "required" } th { "description" } } }
            tbody {
                @for (name, p) in props {
                    tr {
                        td { code { (name) } }
                        td { (type_of(p)) }
                        td { @if required.contains(&name.as_str()) { "yes" } @else { "no" } }
                        td {
                            (p.get("description").and_then(Value::as_str).unwrap_or(""))
                            @if let Some(e) = p.get("example") { " e.g. " code { (e) } }
                        }
                    }
                }
            }
        }
    }
}

fn operation(path: &str, method: &str, op: &Value) -> Markup {
    let id = op.get("operationId").and_then(Value::as_str).unwrap_or("");
    html! {
        section.operation id={ "op-" (id) } {
            h3 { code { (method.to_ascii_uppercase()) " " (path) } }
            @if let Some(s) = op.get("summary").and_then(Value::as_str) { p { (s) } }
            @if let Some(d) = op.get("description").and_then(Value::as_str) { p { (d) } }
            @if let Some(ps) = op.get("parameters").and_then(Value::as_array) {
                h4 { "Parameters" }
                table {
                    thead { tr { th { "name" } th { "in" } th { "type" } th { "required" } th { "description" } } }
                    tbody {
                        @for p in ps {
                            tr {
                                td { code { (p["name"].as_str().unwrap_or("")) } }
                                td { (p["in"].as_str().unwrap_or("")) }
                                td { (type_of(&p["schema"])) }
                                td { @if p["required"].as_bool() == Some(true) { "yes" } @else { "no" } }
                                td { (p["description"].as_str().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            @if let Some(content) = op.pointer("/requestBody/content").and_then(Value::as_object) {
                @for (media, c) in content {
                    h4 { "Body: " code { (media) } }
                    (type_of(&c["schema"]))
                }
            }
            h4 { "Responses" }
            table {
                thead { tr { th { "status" } th { "meaning" } th { "body" } } }
                tbody {
                    @if let Some(rs) = op.get("responses").and_then(Value::as_object) {
                        @for (status, r) in rs {
                            tr {
                                td { code { (status) } }
                                td { (r["description"].as_str().unwrap_or("")) }
                                td {
                                    @if let Some(s) = r.pointer("/content/application~1json/schema") { (type_of(s)) }
                                    (example(r.pointer("/content/application~1json/example")))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The whole reference page.
pub fn reference_page(doc: &Value) -> Markup {
    let title = doc
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API");
    let empty = serde_json::Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/static/app.css";
            }
            body.api-docs {
                main {
                    h1 { (title) }
                    p { "OpenAPI " (doc["openapi"].as_str().unwrap_or("")) ": " a href="/api/v1/openapi.json" { "/api/v1/openapi.json" } }
                    @if let Some(d) = doc.pointer("/info/description").and_then(Value::as_str) { p { (d) } }
                    h2 { "Operations" }
                    ul {
                        @for (path, item) in paths {
                            @for m in METHODS {
                                @if let Some(op) = item.get(m) {
                                    li { a href={ "#op-" (op["operationId"].as_str().unwrap_or("")) } { code { (m.to_ascii_uppercase()) " " (path) } } }
                                }
                            }
                        }
                    }
                    @for (path, item) in paths {
                        @for m in METHODS {
                            @if let Some(op) = item.get(m) { (operation(path, m, op)) }
                        }
                    }
                    @if let Some(hooks) = doc["webhooks"].as_object() {
                        h2 { "Webhooks" }
                        p { "Events POSTed to the client's endpoint (set by the back office's admin), signed as Standard Webhooks says." }
                        @for (name, item) in hooks {
                            @if let Some(op) = item.get("post") { (operation(name, "post", op)) }
                        }
                    }
                    h2 { "Schemas" }
                    @for (name, s) in schemas {
                        section.schema id={ "schema-" (name) } {
                            h3 { (name) }
                            @if let Some(d) = s.get("description").and_then(Value::as_str) { p { (d) } }
                            (properties(s))
                            (example(s.get("example")))
                        }
                    }
                }
            }
        }
    }
}
