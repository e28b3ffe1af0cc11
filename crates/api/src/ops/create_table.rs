//! CreateTable: validates a table definition and adds it to the catalog.
//!
//! Validation runs in two stages, as in DynamoDB: first the request's model constraints
//! (reported together, see `validate`), then the meaning of the definition in a fixed order:
//! key schema shape, billing mode and throughput, attribute definitions versus every key
//! schema, local indexes, global indexes. Shared model pieces (key schemas, projections,
//! throughput, tags) live in [`model`] so UpdateTable and TagResource use the same rules.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use stator_engine::ddl::{NewIndex, NewTable, WarmRequest};
use stator_engine::schema::{
    BillingMode, KeyAttribute, KeySchema, OnDemandThroughput, Projection, ProjectionType,
    ScalarType, SseMeta, Tag, MAX_KEY_COMPONENTS,
};
use stator_engine::DynamoError;

use crate::enums::{DynamoEnum, EnumValue, KeyType, SseType, StreamViewType, TableClass};
use crate::validate::{self, Validator};
use crate::Context;

/// Request model pieces shared by the table-level operations.
pub mod model {
    use super::*;

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct AttributeDefinitionIn {
        pub attribute_name: Option<String>,
        pub attribute_type: Option<EnumValue<ScalarType>>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct KeySchemaElementIn {
        pub attribute_name: Option<String>,
        pub key_type: Option<EnumValue<KeyType>>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct ThroughputIn {
        pub read_capacity_units: Option<i64>,
        pub write_capacity_units: Option<i64>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct OnDemandIn {
        pub max_read_request_units: Option<i64>,
        pub max_write_request_units: Option<i64>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct WarmIn {
        pub read_units_per_second: Option<i64>,
        pub write_units_per_second: Option<i64>,
    }

    /// A `WarmThroughput` parameter as the engine takes it.
    pub fn warm(w: Option<&WarmIn>) -> Option<WarmRequest> {
        w.map(|w| WarmRequest {
            read_units_per_second: w.read_units_per_second,
            write_units_per_second: w.write_units_per_second,
        })
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct ProjectionIn {
        pub projection_type: Option<EnumValue<ProjectionType>>,
        pub non_key_attributes: Option<Vec<String>>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct IndexIn {
        pub index_name: Option<String>,
        pub key_schema: Option<Vec<KeySchemaElementIn>>,
        pub projection: Option<ProjectionIn>,
        pub provisioned_throughput: Option<ThroughputIn>,
        pub on_demand_throughput: Option<OnDemandIn>,
        pub warm_throughput: Option<WarmIn>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct StreamSpecificationIn {
        pub stream_enabled: Option<bool>,
        pub stream_view_type: Option<EnumValue<StreamViewType>>,
    }

    #[derive(Deserialize, Clone)]
    pub struct SseSpecificationIn {
        #[serde(rename = "Enabled")]
        pub enabled: Option<bool>,
        #[serde(rename = "SSEType")]
        pub sse_type: Option<EnumValue<SseType>>,
        #[serde(rename = "KMSMasterKeyId")]
        pub kms_master_key_id: Option<String>,
    }

    #[derive(Deserialize, Clone)]
    #[serde(rename_all = "PascalCase")]
    pub struct TagIn {
        pub key: Option<String>,
        pub value: Option<String>,
    }

    /// How the Java service prints a key schema list in a length error.
    fn show_key_schema(list: &[KeySchemaElementIn]) -> String {
        let parts: Vec<String> = list
            .iter()
            .map(|k| {
                format!(
                    "KeySchemaElement(attributeName={}, keyType={})",
                    k.attribute_name.as_deref().unwrap_or("null"),
                    k.key_type.as_ref().map_or("null", EnumValue::text)
                )
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    /// Which key schema a list is: a table's or local index's (one HASH, at most one RANGE)
    /// or a global index's (multi-attribute keys: up to four HASH, then up to four RANGE).
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum KeyShape {
        Simple,
        Global,
    }

    /// The model constraints of a key schema list (names, key types, its length: 1-2, or
    /// 1-8 for a global index).
    pub fn check_key_schema(
        v: &mut Validator,
        schema: Option<&Vec<KeySchemaElementIn>>,
        path: &str,
        shape: KeyShape,
    ) {
        let Some(schema) = schema else {
            v.required::<()>(None, path);
            return;
        };
        for (i, element) in schema.iter().enumerate() {
            let at = format!("{path}.{}.member", i + 1);
            v.text(
                element.attribute_name.as_deref(),
                &format!("{at}.attributeName"),
                validate::ATTRIBUTE_NAME,
                true,
            );
            v.enumeration(element.key_type.as_ref(), &format!("{at}.keyType"), true);
        }
        let most = match shape {
            KeyShape::Simple => 2,
            KeyShape::Global => 2 * MAX_KEY_COMPONENTS,
        };
        v.list_len(schema.len(), &show_key_schema(schema), path, 1, most);
    }

    /// The HASH and RANGE attribute names of a constraint-checked key schema, in order, in
    /// DynamoDB's words for a malformed one. A simple schema is one HASH element, then at
    /// most one RANGE element; a global index's is 1-4 HASH elements followed by 0-4 RANGE
    /// elements, no attribute twice.
    pub fn key_schema_names(
        elements: &[KeySchemaElementIn],
        shape: KeyShape,
    ) -> Result<(Vec<String>, Vec<String>), DynamoError> {
        let name = |e: &KeySchemaElementIn| e.attribute_name.clone().unwrap_or_default();
        let key_type = |e: &KeySchemaElementIn| e.key_type.as_ref().and_then(EnumValue::value);
        let Some(first) = elements.first() else {
            return Err(DynamoError::validation(
                "Invalid KeySchema: Some KeySchemaElement is missing",
            ));
        };
        if key_type(first) != Some(KeyType::Hash) {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ));
        }
        let mut hash = Vec::new();
        let mut range = Vec::new();
        for element in elements {
            match key_type(element) {
                Some(KeyType::Hash) if range.is_empty() => hash.push(name(element)),
                Some(KeyType::Hash) => {
                    // Decided text (multi-attribute keys): DynamoDB's is not documented.
                    return Err(DynamoError::validation(
                        "Invalid KeySchema: A HASH KeySchemaElement cannot follow a RANGE \
                         KeySchemaElement",
                    ));
                }
                _ => range.push(name(element)),
            }
        }
        if shape == KeyShape::Simple && hash.len() > 1 {
            return Err(DynamoError::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        // Decided texts (multi-attribute keys), in the style of the key schema messages.
        for (list, part) in [(&hash, "HASH"), (&range, "RANGE")] {
            if list.len() > MAX_KEY_COMPONENTS {
                return Err(DynamoError::validation(format!(
                    "Invalid KeySchema: A global secondary index key can have at most \
                     {MAX_KEY_COMPONENTS} {part} KeySchemaElements, found {}",
                    list.len()
                )));
            }
        }
        if let [h] = hash.as_slice() {
            if range.first() == Some(h) {
                return Err(DynamoError::validation(
                    "Both the Hash Key and the Range Key element in the KeySchema have the same \
                     name",
                ));
            }
        }
        let all: Vec<&String> = hash.iter().chain(&range).collect();
        for (i, n) in all.iter().enumerate() {
            if all[..i].contains(n) {
                return Err(DynamoError::validation(format!(
                    "Invalid KeySchema: The attribute {n} appears more than once in the KeySchema"
                )));
            }
        }
        Ok((hash, range))
    }

    pub fn check_throughput(v: &mut Validator, t: Option<&ThroughputIn>, path: &str) {
        if let Some(t) = t {
            v.int_range(
                t.read_capacity_units,
                &format!("{path}.readCapacityUnits"),
                1,
                i64::MAX,
                true,
            );
            v.int_range(
                t.write_capacity_units,
                &format!("{path}.writeCapacityUnits"),
                1,
                i64::MAX,
                true,
            );
        }
    }

    pub fn check_projection(v: &mut Validator, p: Option<&ProjectionIn>, path: &str) {
        let Some(p) = p else {
            v.required::<()>(None, path);
            return;
        };
        v.enumeration(
            p.projection_type.as_ref(),
            &format!("{path}.projectionType"),
            false,
        );
        if let Some(attrs) = &p.non_key_attributes {
            v.list_len(
                attrs.len(),
                &format!("[{}]", attrs.join(", ")),
                &format!("{path}.nonKeyAttributes"),
                1,
                20,
            );
            // Each name is a member constrained to 1-255 bytes, reported as Coral reports
            // a list member's violations.
            let mut broken = Vec::new();
            if attrs.iter().any(|a| a.len() > 255) {
                broken.push("Member must have length less than or equal to 255");
            }
            if attrs.iter().any(String::is_empty) {
                broken.push("Member must have length greater than or equal to 1");
            }
            if !broken.is_empty() {
                v.custom(
                    &format!("[{}]", attrs.join(", ")),
                    &format!("{path}.nonKeyAttributes"),
                    &format!("Member must satisfy constraint: [{}]", broken.join(", ")),
                );
            }
        }
    }

    pub fn check_stream(v: &mut Validator, s: Option<&StreamSpecificationIn>, path: &str) {
        if let Some(s) = s {
            v.required(s.stream_enabled.as_ref(), &format!("{path}.streamEnabled"));
            v.enumeration(
                s.stream_view_type.as_ref(),
                &format!("{path}.streamViewType"),
                false,
            );
        }
    }

    pub fn check_sse(v: &mut Validator, s: Option<&SseSpecificationIn>, path: &str) {
        if let Some(s) = s {
            v.enumeration(s.sse_type.as_ref(), &format!("{path}.sSEType"), false);
        }
    }

    /// AWS's pattern for tag keys and values: letters, digits, whitespace and `_ . : / = + - @`.
    const TAG_PATTERN: &str = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";

    fn tag_text_ok(text: &str) -> bool {
        text.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
    }

    pub fn check_tags(v: &mut Validator, tags: Option<&Vec<TagIn>>, path: &str) {
        for (i, tag) in tags.into_iter().flatten().enumerate() {
            let at = format!("{path}.{}.member", i + 1);
            for (text, member, rules) in [
                (tag.key.as_deref(), "key", validate::TAG_KEY),
                (tag.value.as_deref(), "value", validate::TAG_VALUE),
            ] {
                let path = format!("{at}.{member}");
                v.text(text, &path, rules, true);
                if let Some(text) = text.filter(|t| !tag_text_ok(t)) {
                    v.custom(
                        text,
                        &path,
                        &format!("Member must satisfy regular expression pattern: {TAG_PATTERN}"),
                    );
                }
            }
        }
    }

    /// DynamoDB's limit on the tags of one resource.
    pub const MAX_TAGS: usize = 50;

    /// More than [`MAX_TAGS`] tags in one request (CreateTable, TagResource).
    pub fn too_many_tags() -> DynamoError {
        DynamoError::new(
            stator_engine::ErrorKind::LimitExceeded,
            "The number of tags for the resource exceeds the maximum of 50",
        )
    }

    /// Validated tags (keys and values are present after `check_tags`).
    pub fn tags(tags: Option<Vec<TagIn>>) -> Vec<Tag> {
        tags.into_iter()
            .flatten()
            .map(|t| Tag {
                key: t.key.unwrap_or_default(),
                value: t.value.unwrap_or_default(),
            })
            .collect()
    }

    pub fn on_demand(o: Option<&OnDemandIn>) -> Option<OnDemandThroughput> {
        o.map(|o| OnDemandThroughput {
            max_read_request_units: o.max_read_request_units,
            max_write_request_units: o.max_write_request_units,
        })
    }

    /// `(read, write)` of a constraint-checked throughput.
    pub fn throughput_pair(t: Option<&ThroughputIn>) -> Option<(i64, i64)> {
        t.map(|t| {
            (
                t.read_capacity_units.unwrap_or(1),
                t.write_capacity_units.unwrap_or(1),
            )
        })
    }

    /// The names and types of constraint-checked attribute definitions.
    pub fn attribute_types(
        defs: Option<&[AttributeDefinitionIn]>,
    ) -> Result<Vec<(String, ScalarType)>, DynamoError> {
        defs.unwrap_or_default()
            .iter()
            .map(|d| {
                let t = d
                    .attribute_type
                    .as_ref()
                    .and_then(EnumValue::value)
                    .ok_or_else(|| DynamoError::internal("unchecked attribute definition"))?;
                Ok((d.attribute_name.clone().unwrap_or_default(), t))
            })
            .collect()
    }

    /// The projection of a new index (CreateTable and UpdateTable share the rules).
    pub fn projection(p: Option<&ProjectionIn>, index: &str) -> Result<Projection, DynamoError> {
        let Some(p) = p else {
            return Err(DynamoError::invalid_parameter(format!(
                "Unknown ProjectionType: null for index: {index}"
            )));
        };
        // An absent type (the member is optional in the model) is refused here; a wrong
        // one was refused by the request validator.
        let Some(projection_type) = p.projection_type.as_ref().and_then(EnumValue::value) else {
            return Err(DynamoError::invalid_parameter(format!(
                "Unknown ProjectionType: null for index: {index}"
            )));
        };
        let non_key_attributes = match (projection_type, &p.non_key_attributes) {
            (ProjectionType::Include, None) => {
                return Err(DynamoError::invalid_parameter(
                    "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
                ))
            }
            (ProjectionType::All | ProjectionType::KeysOnly, Some(_)) => {
                return Err(DynamoError::invalid_parameter(format!(
                    "ProjectionType is {}, but NonKeyAttributes is specified",
                    projection_type.as_str()
                )))
            }
            (_, attrs) => attrs.clone().unwrap_or_default(),
        };
        let mut seen = std::collections::HashSet::new();
        for attr in &non_key_attributes {
            if !seen.insert(attr) {
                return Err(DynamoError::invalid_parameter(format!(
                    "Duplicate attribute in NonKeyAttributes: {attr} for index: {index}"
                )));
            }
        }
        Ok(Projection {
            projection_type,
            non_key_attributes,
        })
    }

    /// An SSE specification turned into what DescribeTable reports. `Enabled: false` or
    /// `AES256` means DynamoDB's default encryption, which it does not describe.
    pub fn sse(s: Option<&SseSpecificationIn>) -> Option<SseMeta> {
        let s = s?;
        let sse_type = s.sse_type.as_ref().and_then(EnumValue::value);
        if s.enabled == Some(false) || sse_type == Some(SseType::Aes256) {
            return None;
        }
        if s.enabled == Some(true) || s.sse_type.is_some() || s.kms_master_key_id.is_some() {
            return Some(SseMeta {
                sse_type: "KMS".to_string(),
                kms_master_key_id: s.kms_master_key_id.clone(),
            });
        }
        None
    }
}

use model::*;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    pub attribute_definitions: Option<Vec<AttributeDefinitionIn>>,
    pub table_name: Option<String>,
    pub key_schema: Option<Vec<KeySchemaElementIn>>,
    pub local_secondary_indexes: Option<Vec<IndexIn>>,
    pub global_secondary_indexes: Option<Vec<IndexIn>>,
    pub billing_mode: Option<EnumValue<BillingMode>>,
    pub provisioned_throughput: Option<ThroughputIn>,
    pub stream_specification: Option<StreamSpecificationIn>,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecificationIn>,
    pub tags: Option<Vec<TagIn>>,
    pub table_class: Option<EnumValue<TableClass>>,
    pub deletion_protection_enabled: Option<bool>,
    pub on_demand_throughput: Option<OnDemandIn>,
    pub resource_policy: Option<IgnoredAny>,
    pub warm_throughput: Option<WarmIn>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub table_description: serde_json::Value,
}

fn invalid(detail: impl std::fmt::Display) -> DynamoError {
    DynamoError::invalid_parameter(detail)
}

/// Turns a constraint-checked key schema into the engine's form, enforcing its shape
/// ([`key_schema_names`]). Attribute types come from `types`; an attribute missing there is
/// reported by the attribute-definition checks that follow, so its placeholder type is
/// never stored.
fn key_schema(
    elements: &[KeySchemaElementIn],
    types: &[(String, ScalarType)],
    shape: KeyShape,
) -> Result<KeySchema, DynamoError> {
    let (hash, range) = key_schema_names(elements, shape)?;
    let typed = |names: Vec<String>| -> Vec<KeyAttribute> {
        names
            .into_iter()
            .map(|name| KeyAttribute {
                attr_type: types
                    .iter()
                    .find(|(a, _)| *a == name)
                    .map(|(_, t)| *t)
                    .unwrap_or(ScalarType::S),
                name,
            })
            .collect()
    };
    KeySchema::from_components(typed(hash), typed(range)).ok_or_else(|| {
        DynamoError::validation("Invalid KeySchema: Some KeySchemaElement is missing")
    })
}

pub fn run(ctx: &Context<'_>, input: Input) -> Result<Output, DynamoError> {
    // A missing TableName is answered on its own, before the model constraints.
    if input.table_name.is_none() {
        return Err(DynamoError::validation(
            "The parameter 'TableName' is required but was not present in the request",
        ));
    }
    // Stage 1: model constraints.
    let mut v = Validator::new();
    match &input.attribute_definitions {
        None => {
            v.required::<()>(None, "attributeDefinitions");
        }
        Some(defs) => {
            for (i, d) in defs.iter().enumerate() {
                let at = format!("attributeDefinitions.{}.member", i + 1);
                v.text(
                    d.attribute_name.as_deref(),
                    &format!("{at}.attributeName"),
                    validate::ATTRIBUTE_NAME,
                    true,
                );
                v.enumeration(
                    d.attribute_type.as_ref(),
                    &format!("{at}.attributeType"),
                    true,
                );
            }
        }
    }
    v.text(
        input.table_name.as_deref(),
        "tableName",
        validate::TABLE_NAME,
        true,
    );
    check_key_schema(
        &mut v,
        input.key_schema.as_ref(),
        "keySchema",
        KeyShape::Simple,
    );
    for (kind, list, shape) in [
        (
            "localSecondaryIndexes",
            &input.local_secondary_indexes,
            KeyShape::Simple,
        ),
        (
            "globalSecondaryIndexes",
            &input.global_secondary_indexes,
            KeyShape::Global,
        ),
    ] {
        for (i, index) in list.iter().flatten().enumerate() {
            let at = format!("{kind}.{}.member", i + 1);
            v.text(
                index.index_name.as_deref(),
                &format!("{at}.indexName"),
                validate::INDEX_NAME,
                true,
            );
            check_key_schema(
                &mut v,
                index.key_schema.as_ref(),
                &format!("{at}.keySchema"),
                shape,
            );
            check_projection(
                &mut v,
                index.projection.as_ref(),
                &format!("{at}.projection"),
            );
            check_throughput(
                &mut v,
                index.provisioned_throughput.as_ref(),
                &format!("{at}.provisionedThroughput"),
            );
        }
    }
    let billing = v
        .enumeration(input.billing_mode.as_ref(), "billingMode", false)
        .unwrap_or(BillingMode::Provisioned);
    check_throughput(
        &mut v,
        input.provisioned_throughput.as_ref(),
        "provisionedThroughput",
    );
    check_stream(
        &mut v,
        input.stream_specification.as_ref(),
        "streamSpecification",
    );
    check_sse(&mut v, input.sse_specification.as_ref(), "sSESpecification");
    check_tags(&mut v, input.tags.as_ref(), "tags");
    let table_class = v.enumeration(input.table_class.as_ref(), "tableClass", false);
    v.finish()?;

    if input.resource_policy.is_some() {
        return Err(super::not_yet("ResourcePolicy"));
    }
    if input.tags.as_ref().is_some_and(|t| t.len() > MAX_TAGS) {
        return Err(too_many_tags());
    }
    // Stage 2: meaning.
    let defs = attribute_types(input.attribute_definitions.as_deref())?;
    let table_elements = input.key_schema.as_deref().unwrap_or_default();
    // The table's own key schema naming one attribute as HASH and RANGE is reported as an
    // undefined key attribute (an index's gets the same-name text below).
    if let [hash, range] = table_elements {
        if hash.attribute_name.is_some() && hash.attribute_name == range.attribute_name {
            return Err(DynamoError::validation(
                "Invalid KeySchema: Some index key attribute have no definition",
            ));
        }
    }
    let table_key = key_schema(table_elements, &defs, KeyShape::Simple)?;

    match billing {
        BillingMode::Provisioned if input.provisioned_throughput.is_none() => {
            return Err(invalid(
                "ReadCapacityUnits and WriteCapacityUnits must both be specified when \
                 BillingMode is PROVISIONED",
            ))
        }
        BillingMode::PayPerRequest if input.provisioned_throughput.is_some() => {
            return Err(invalid(
                "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when \
                 BillingMode is PAY_PER_REQUEST",
            ))
        }
        _ => {}
    }

    let mut seen_defs = std::collections::HashSet::new();
    for (name, _) in &defs {
        if !seen_defs.insert(name.as_str()) {
            return Err(invalid(format!(
                "Duplicate AttributeName in AttributeDefinitions: {name}"
            )));
        }
    }

    // Every key attribute of the table and its indexes must be defined, and every definition
    // must be used by some key schema. DynamoDB words each case differently: an undefined
    // table key, an undefined index key (listing that index's keys), and unused definitions
    // (a short message without indexes, a listing one with them).
    let all_defs: Vec<&str> = defs.iter().map(|(d, _)| d.as_str()).collect();
    let defined = |n: &str| defs.iter().any(|(d, _)| d == n);
    if !table_key.attributes().all(|a| defined(&a.name)) {
        return Err(DynamoError::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    let indexes: Vec<&IndexIn> = input
        .local_secondary_indexes
        .iter()
        .flatten()
        .chain(input.global_secondary_indexes.iter().flatten())
        .collect();
    let mut key_names: Vec<String> = table_key.attributes().map(|a| a.name.clone()).collect();
    for index in &indexes {
        let index_keys: Vec<String> = index
            .key_schema
            .iter()
            .flatten()
            .map(|e| e.attribute_name.clone().unwrap_or_default())
            .collect();
        if !index_keys.iter().all(|k| defined(k)) {
            return Err(invalid(format!(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], \
                 AttributeDefinitions: [{}]",
                index_keys.join(", "),
                all_defs.join(", ")
            )));
        }
        for k in index_keys {
            if !key_names.contains(&k) {
                key_names.push(k);
            }
        }
    }
    if defs.len() != key_names.len() {
        if indexes.is_empty() {
            return Err(invalid(
                "Number of attributes in KeySchema does not exactly match number of attributes \
                 defined in AttributeDefinitions",
            ));
        }
        return Err(invalid(format!(
            "Some AttributeDefinitions are not used. AttributeDefinitions: [{}], keys used: [{}]",
            all_defs.join(", "),
            key_names.join(", ")
        )));
    }

    let mut index_names = std::collections::HashSet::new();
    let mut local_indexes = Vec::new();
    if let Some(lsis) = &input.local_secondary_indexes {
        if lsis.is_empty() {
            return Err(invalid("List of LocalSecondaryIndexes is empty"));
        }
        if table_key.sort.is_none() {
            return Err(invalid(
                "Table KeySchema does not have a range key, which is required when specifying \
                 a LocalSecondaryIndex",
            ));
        }
        if lsis.len() > 5 {
            return Err(invalid(
                "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
            ));
        }
        for lsi in lsis {
            let name = lsi.index_name.clone().unwrap_or_default();
            if !index_names.insert(name.clone()) {
                return Err(invalid(format!("Duplicate index name: {name}")));
            }
            let schema = key_schema(
                lsi.key_schema.as_deref().unwrap_or_default(),
                &defs,
                KeyShape::Simple,
            )?;
            if schema.partition.name != table_key.partition.name {
                return Err(invalid(format!(
                    "Index KeySchema does not have the same leading hash key as table \
                     KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                    schema.partition.name, table_key.partition.name
                )));
            }
            if schema.sort.is_none() {
                return Err(invalid(format!(
                    "Index KeySchema does not have a range key for index: {name}"
                )));
            }
            if lsi.provisioned_throughput.is_some() {
                return Err(invalid(format!(
                    "ProvisionedThroughput should not be specified for index: {name}"
                )));
            }
            let projection = projection(lsi.projection.as_ref(), &name)?;
            local_indexes.push(NewIndex {
                name,
                key_schema: schema,
                projection,
                throughput: None,
                on_demand: None,
                warm: None,
            });
        }
    }

    let mut global_indexes = Vec::new();
    if let Some(gsis) = &input.global_secondary_indexes {
        if gsis.is_empty() {
            return Err(invalid("List of GlobalSecondaryIndexes is empty"));
        }
        if gsis.len() > 20 {
            return Err(invalid(
                "GlobalSecondaryIndex count exceeds the per-table limit of 20",
            ));
        }
        for gsi in gsis {
            let name = gsi.index_name.clone().unwrap_or_default();
            if !index_names.insert(name.clone()) {
                return Err(invalid(format!("Duplicate index name: {name}")));
            }
            let schema = key_schema(
                gsi.key_schema.as_deref().unwrap_or_default(),
                &defs,
                KeyShape::Global,
            )?;
            let projection = projection(gsi.projection.as_ref(), &name)?;
            let throughput = match (
                billing,
                throughput_pair(gsi.provisioned_throughput.as_ref()),
            ) {
                (BillingMode::Provisioned, None) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput is not specified for index: {name}"
                    )))
                }
                (BillingMode::PayPerRequest, Some(_)) => {
                    return Err(invalid(format!(
                        "ProvisionedThroughput should not be specified for index: {name} when \
                         BillingMode is PAY_PER_REQUEST"
                    )))
                }
                (_, pair) => pair,
            };
            global_indexes.push(NewIndex {
                name,
                key_schema: schema,
                projection,
                throughput,
                on_demand: on_demand(gsi.on_demand_throughput.as_ref()),
                warm: warm(gsi.warm_throughput.as_ref()),
            });
        }
    }

    let total_projected: usize = local_indexes
        .iter()
        .chain(&global_indexes)
        .map(|i: &NewIndex| i.projection.non_key_attributes.len())
        .sum();
    if total_projected > 100 {
        return Err(invalid(
            "Number of projected attributes in all indexes exceeds limit of 100",
        ));
    }

    let stream_view_type = match &input.stream_specification {
        Some(s) if s.stream_enabled == Some(true) => match &s.stream_view_type {
            Some(view) => view.value().map(|v| v.as_str().to_string()),
            None => {
                return Err(invalid(
                    "You must specify a StreamViewType when enabling a stream",
                ))
            }
        },
        _ => None,
    };

    let new = NewTable {
        name: input.table_name.unwrap_or_default(),
        region: ctx.region.to_string(),
        attribute_definitions: defs
            .into_iter()
            .map(|(name, attr_type)| KeyAttribute { name, attr_type })
            .collect(),
        key_schema: table_key,
        billing_mode: billing,
        throughput: throughput_pair(input.provisioned_throughput.as_ref()),
        on_demand: on_demand(input.on_demand_throughput.as_ref()),
        warm: warm(input.warm_throughput.as_ref()),
        global_indexes,
        local_indexes,
        stream_view_type,
        sse: sse(input.sse_specification.as_ref()),
        table_class: table_class.map(|c| c.as_str().to_string()),
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        tags: tags(input.tags),
    };
    let view = ctx.engine.create_table(new)?;
    Ok(Output {
        table_description: super::table_description::describe(&view),
    })
}
