//! What PutItem, DeleteItem and UpdateItem share: their `Return…` options (checked in
//! DynamoDB's member order) and their output.

use serde::Serialize;
use stator_engine::capacity::ReturnCapacity;
use stator_engine::items::{ReturnValues, WriteOutput};
use stator_types::Item;

use super::{CollectionMetricsOut, ConsumedCapacityOut};
use crate::enums::{
    ConditionalOperator, EnumValue, ReturnItemCollectionMetrics,
    ReturnValuesOnConditionCheckFailure,
};
use crate::validate::Validator;

/// The option members of a single-item write, as sent.
pub struct WriteOptions<'a> {
    pub return_values: Option<&'a EnumValue<ReturnValues>>,
    pub return_consumed_capacity: Option<&'a EnumValue<ReturnCapacity>>,
    pub return_item_collection_metrics: Option<&'a EnumValue<ReturnItemCollectionMetrics>>,
    pub conditional_operator: Option<&'a EnumValue<ConditionalOperator>>,
    pub return_values_on_condition_check_failure:
        Option<&'a EnumValue<ReturnValuesOnConditionCheckFailure>>,
}

/// The options once checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Chosen {
    pub return_values: ReturnValues,
    pub capacity: ReturnCapacity,
    /// `ReturnItemCollectionMetrics=SIZE`.
    pub collection_metrics: bool,
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD`.
    pub old_on_failure: bool,
}

impl WriteOptions<'_> {
    /// Checks the members' enum constraints, in the order DynamoDB reports them.
    pub fn check(&self, v: &mut Validator) -> Chosen {
        let return_values = v.enumeration(self.return_values, "returnValues", false);
        let capacity = v.enumeration(
            self.return_consumed_capacity,
            "returnConsumedCapacity",
            false,
        );
        let metrics = v.enumeration(
            self.return_item_collection_metrics,
            "returnItemCollectionMetrics",
            false,
        );
        v.enumeration(self.conditional_operator, "conditionalOperator", false);
        let on_failure = v.enumeration(
            self.return_values_on_condition_check_failure,
            "returnValuesOnConditionCheckFailure",
            false,
        );
        Chosen {
            return_values: return_values.unwrap_or_default(),
            capacity: capacity.unwrap_or_default(),
            collection_metrics: metrics == Some(ReturnItemCollectionMetrics::Size),
            old_on_failure: on_failure == Some(ReturnValuesOnConditionCheckFailure::AllOld),
        }
    }
}

/// The output of PutItem, DeleteItem and UpdateItem.
#[derive(Serialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub struct WriteItemOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_capacity: Option<ConsumedCapacityOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_collection_metrics: Option<CollectionMetricsOut>,
}

impl WriteItemOutput {
    /// What the client asked to see of a write.
    pub fn new(out: WriteOutput, chosen: Chosen) -> Self {
        WriteItemOutput {
            attributes: out.attributes,
            consumed_capacity: ConsumedCapacityOut::from(out.consumed, chosen.capacity),
            item_collection_metrics: CollectionMetricsOut::from(
                out.collection_metrics,
                chosen.collection_metrics,
            ),
        }
    }
}
