//! TransactGetItems and TransactWriteItems.
//!
//! A TransactWriteItems is **one** run of `Engine::write`: every table's current metadata
//! is taken inside the transaction, every action's item is read, every condition evaluated
//! and every update computed first; if any action fails, the transaction writes nothing
//! and fails with `TransactionCanceledException`, whose cancellation reasons list every
//! action in request order (`None` for the ones that would have succeeded). Otherwise every
//! write goes through the one write path ([`crate::write::apply`]) and they commit
//! together. Storage transactions are serializable, so transactions are serializable with
//! respect to each other and to single-item writes; on the embedded backends, which
//! serialize writers, two requests on one item never conflict, so Stator never needs
//! `TransactionConflict` there. A TransactGetItems reads every item from one snapshot.
//!
//! `ClientRequestToken` makes a TransactWriteItems idempotent for 10 minutes: the same
//! token with the same request succeeds again without writing; with a different request it
//! fails with `IdempotentParameterMismatchException`. The tokens are kept in this process
//! (a shared-database deployment will need them in the database).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use stator_expr::{Condition, Projection, Update};
use stator_types::{AttributeValue, Item};

use crate::capacity::{
    read_units, tally_for, write_units, CapacityKind, CapacityTally, ConsumedCapacity,
};
use crate::collections::CollectionMetrics;
use crate::error::{CancellationCode, CancellationReason, DynamoError, ErrorKind};
use crate::itemcheck::{check_item, check_key, check_update_spares_key, check_updated_size};
use crate::keys;
use crate::records::{decode_stored, encode_stored, StoredItem};
use crate::schema::TableMeta;
use crate::write::{self, Cause, Change, ItemKey, NewItem};
use crate::Engine;

/// How long a `ClientRequestToken` is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(600);

/// One `Get` of a TransactGetItems, after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactGet {
    pub table: String,
    pub key: Item,
    pub projection: Option<Projection>,
}

/// What TransactGetItems returns: one entry per `Get`, in request order (`None` when the
/// item does not exist).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactGetOutput {
    pub items: Vec<Option<Item>>,
    /// What was consumed, one entry per table.
    pub consumed: Vec<ConsumedCapacity>,
}

/// One action of a TransactWriteItems, after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum TransactAction {
    ConditionCheck {
        table: String,
        key: Item,
        condition: Condition,
    },
    Put {
        table: String,
        item: Item,
        condition: Option<Condition>,
    },
    Delete {
        table: String,
        key: Item,
        condition: Option<Condition>,
    },
    Update {
        table: String,
        key: Item,
        update: Update,
        condition: Option<Condition>,
    },
}

/// An action with its `ReturnValuesOnConditionCheckFailure=ALL_OLD` flag.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactWrite {
    pub action: TransactAction,
    pub return_old_on_failure: bool,
}

/// A TransactWriteItems after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactWriteRequest {
    pub writes: Vec<TransactWrite>,
    pub client_request_token: Option<String>,
    /// A digest of the whole request apart from the token, computed by the API layer, to
    /// tell a retry of the same request from a different request with the same token.
    pub request_fingerprint: u64,
}

/// What a successful TransactWriteItems returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactWriteOutput {
    /// What was consumed, one entry per table (none for a repeated idempotent request,
    /// which writes nothing).
    pub consumed: Vec<ConsumedCapacity>,
    pub collection_metrics: Vec<(String, Vec<CollectionMetrics>)>,
}

/// Tokens of recent successful TransactWriteItems: token → (request fingerprint, when).
#[derive(Default)]
pub(crate) struct IdempotencyTokens {
    /// Token → (request fingerprint, engine-clock time it was used).
    seen: std::collections::HashMap<String, (u64, Duration)>,
}

impl IdempotencyTokens {
    /// `Some(true)` if the token was used for this very request within the window,
    /// `Some(false)` if for a different one, `None` if unknown (or expired).
    fn check(&mut self, token: &str, fingerprint: u64, now: Duration) -> Option<bool> {
        // A clock set backwards counts as no time passed.
        self.seen
            .retain(|_, (_, at)| now.saturating_sub(*at) < IDEMPOTENCY_WINDOW);
        self.seen.get(token).map(|(f, _)| *f == fingerprint)
    }

    fn remember(&mut self, token: String, fingerprint: u64, now: Duration) {
        self.seen.insert(token, (fingerprint, now));
    }
}

/// One action after phase 1: where it writes and what.
struct Planned {
    table_index: usize,
    storage_key: Vec<u8>,
    pk: AttributeValue,
    old: Option<StoredItem>,
    /// `None` for a ConditionCheck (nothing written); `Some(None)` for a delete.
    new: Option<Option<(Item, usize)>>,
}

impl TransactAction {
    fn table(&self) -> &str {
        match self {
            TransactAction::ConditionCheck { table, .. }
            | TransactAction::Put { table, .. }
            | TransactAction::Delete { table, .. }
            | TransactAction::Update { table, .. } => table,
        }
    }

    fn condition(&self) -> Option<&Condition> {
        match self {
            TransactAction::ConditionCheck { condition, .. } => Some(condition),
            TransactAction::Put { condition, .. }
            | TransactAction::Delete { condition, .. }
            | TransactAction::Update { condition, .. } => condition.as_ref(),
        }
    }

    /// The item whose key identifies the target (the item itself for a Put).
    fn key_item(&self) -> &Item {
        match self {
            TransactAction::Put { item, .. } => item,
            TransactAction::ConditionCheck { key, .. }
            | TransactAction::Delete { key, .. }
            | TransactAction::Update { key, .. } => key,
        }
    }
}

/// A transaction of `count` actions cancelled because action `at` was throttled
/// (`throttle`): DynamoDB's `ProvisionedThroughputExceeded` reason with the throttle's
/// message for it, `None` for the others.
fn throttle_cancellation(count: usize, at: usize, throttle: DynamoError) -> DynamoError {
    if throttle.kind != ErrorKind::ProvisionedThroughputExceeded {
        return throttle;
    }
    let mut reasons: Vec<CancellationReason> =
        (0..count).map(|_| CancellationReason::none()).collect();
    if let Some(reason) = reasons.get_mut(at) {
        *reason = CancellationReason::new(
            CancellationCode::ProvisionedThroughputExceeded,
            throttle.message,
            None,
        );
    }
    DynamoError::transaction_canceled(reasons)
}

impl Engine {
    /// TransactGetItems: every item from one snapshot; each read costs twice a strongly
    /// consistent read, as DynamoDB charges transactional reads.
    pub fn transact_get(&self, gets: Vec<TransactGet>) -> Result<TransactGetOutput, DynamoError> {
        let metas = self.tables_of(gets.iter().map(|g| g.table.as_str()))?;
        // As in TransactWriteItems: the first key that does not pass the table's checks
        // cancels the transaction (`ValidationError` for it, `None` for the others); two
        // Gets of one item are a ValidationException of the request.
        let mut storage_keys = Vec::with_capacity(gets.len());
        let mut seen = HashSet::new();
        for (i, (get, meta)) in gets.iter().zip(&metas).enumerate() {
            let (pk, sk) = match check_key(meta, &get.key) {
                Ok(key) => key,
                Err(e) if e.kind == ErrorKind::Validation => {
                    let mut reasons: Vec<CancellationReason> = (0..gets.len())
                        .map(|_| CancellationReason::none())
                        .collect();
                    reasons[i] =
                        CancellationReason::new(CancellationCode::ValidationError, e.message, None);
                    return Err(DynamoError::transaction_canceled(reasons));
                }
                Err(e) => return Err(e),
            };
            let key = keys::item_key(meta.storage_id, pk, sk);
            if !seen.insert(key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            storage_keys.push(key);
        }
        // A Get whose table (or partition) is out of read capacity cancels the transaction.
        for (i, (meta, key)) in metas.iter().zip(&storage_keys).enumerate() {
            if let Err(e) = self.admit(meta, CapacityKind::Read, None, keys::hash_of(key)) {
                return Err(throttle_cancellation(gets.len(), i, e));
            }
        }
        let snapshot = self.storage.snapshot()?;
        let mut out = TransactGetOutput::default();
        let mut tallies: Vec<CapacityTally> = Vec::new();
        for ((get, meta), key) in gets.iter().zip(&metas).zip(&storage_keys) {
            let stored = snapshot.get(key)?.map(|b| decode_stored(&b)).transpose()?;
            let size = stored.as_ref().map_or(0, |s| s.size);
            let units = 2.0 * read_units(size, true);
            let one = ConsumedCapacity {
                table_units: units,
                ..ConsumedCapacity::zero(&meta.name, CapacityKind::Read)
            };
            // Reads charge only the table, which admitted them.
            self.charge_admitted(meta, &one, keys::hash_of(key))?;
            tally_for(&mut tallies, &meta.name, CapacityKind::Read).units += units;
            out.items.push(stored.map(|s| match &get.projection {
                Some(p) => stator_expr::project(&p.0, &s.item),
                None => s.item,
            }));
        }
        out.consumed = tallies
            .into_iter()
            .map(CapacityTally::into_consumed)
            .collect();
        Ok(out)
    }

    /// TransactWriteItems: all actions in one write transaction, or none.
    pub fn transact_write(
        &self,
        req: TransactWriteRequest,
    ) -> Result<TransactWriteOutput, DynamoError> {
        // With a token, the check, the write and remembering the token happen under one
        // lock, so two concurrent requests with the same token cannot both write. (Lock
        // order: tokens, then the storage writer; nothing takes them the other way round.)
        let mut tokens = match &req.client_request_token {
            None => None,
            Some(token) => {
                let mut guard = match self.idempotency.lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                match guard.check(token, req.request_fingerprint, self.config.clock.now()) {
                    Some(true) => return Ok(TransactWriteOutput::default()),
                    Some(false) => {
                        return Err(DynamoError::new(
                            ErrorKind::IdempotentParameterMismatch,
                            "Request parameters do not match the original request with the \
                             same client request token",
                        ))
                    }
                    None => Some(guard),
                }
            }
        };
        let out = self.write(|txn| self.transact_in(txn, &req))?;
        if let (Some(tokens), Some(token)) = (tokens.as_mut(), &req.client_request_token) {
            tokens.remember(
                token.clone(),
                req.request_fingerprint,
                self.config.clock.now(),
            );
        }
        Ok(out)
    }

    /// The body of a TransactWriteItems inside its transaction.
    fn transact_in(
        &self,
        txn: &mut dyn stator_storage::WriteTransaction,
        req: &TransactWriteRequest,
    ) -> Result<TransactWriteOutput, DynamoError> {
        // Static checks, before any item is read: tables, key shapes, items, key updates,
        // and at most one action per item.
        let mut table_names: Vec<&str> = Vec::new();
        for w in &req.writes {
            if !table_names.contains(&w.action.table()) {
                table_names.push(w.action.table());
            }
        }
        let metas: Vec<Arc<TableMeta>> = table_names
            .iter()
            .map(|name| self.table_for_write(txn, name))
            .collect::<Result<_, _>>()?;
        let meta_index = |name: &str| table_names.iter().position(|t| *t == name).unwrap_or(0);
        let mut seen_keys = HashSet::new();
        let mut targets = Vec::with_capacity(req.writes.len());
        // DynamoDB (observed) cancels the transaction, rather than failing the request, when
        // an action's key or item does not pass the table's checks (a key that does not
        // match the schema, a key or index key of the wrong type, an item over a limit): the
        // first such action gets `ValidationError`, every other one `None`, and checking
        // stops there. A problem of the request itself (an update of a key attribute, two
        // actions on one item) stays a ValidationException.
        for (i, w) in req.writes.iter().enumerate() {
            let ti = meta_index(w.action.table());
            let meta = &metas[ti];
            if let TransactAction::Update { update, .. } = &w.action {
                check_update_spares_key(meta, update)?;
            }
            let checked = match &w.action {
                TransactAction::Put { item, .. } => {
                    check_item(meta, item).map(|(pk, sk, _)| (pk, sk))
                }
                other => check_key(meta, other.key_item()),
            };
            let (pk, sk) = match checked {
                Ok(key) => key,
                Err(e) if e.kind == ErrorKind::Validation => {
                    let mut reasons: Vec<CancellationReason> = (0..req.writes.len())
                        .map(|_| CancellationReason::none())
                        .collect();
                    reasons[i] =
                        CancellationReason::new(CancellationCode::ValidationError, e.message, None);
                    return Err(DynamoError::transaction_canceled(reasons));
                }
                Err(e) => return Err(e),
            };
            let storage_key = keys::item_key(meta.storage_id, pk, sk);
            if !seen_keys.insert(storage_key.clone()) {
                return Err(DynamoError::validation(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            targets.push((ti, storage_key, pk.clone()));
        }

        // Phase 1: read, check, compute — nothing is written yet.
        let mut reasons = Vec::with_capacity(req.writes.len());
        let mut planned = Vec::with_capacity(req.writes.len());
        let mut failed = false;
        let empty = Item::new();
        for (w, (ti, storage_key, pk)) in req.writes.iter().zip(targets) {
            let meta = &metas[ti];
            if let Err(e) = self.admit(meta, CapacityKind::Write, None, keys::hash_of(&storage_key))
            {
                failed = true;
                reasons.push(CancellationReason::new(
                    CancellationCode::ProvisionedThroughputExceeded,
                    e.message,
                    None,
                ));
                continue;
            }
            let old = txn
                .get(&storage_key)?
                .map(|b| decode_stored(&b))
                .transpose()?;
            let old_item = old.as_ref().map(|o| &o.item);
            let holds = match w.action.condition() {
                Some(c) => stator_expr::evaluate(c, old_item.unwrap_or(&empty))?,
                None => true,
            };
            if !holds {
                failed = true;
                reasons.push(CancellationReason::new(
                    CancellationCode::ConditionalCheckFailed,
                    "The conditional request failed",
                    old_item.filter(|_| w.return_old_on_failure).cloned(),
                ));
                continue;
            }
            let new = match &w.action {
                TransactAction::ConditionCheck { .. } => None,
                TransactAction::Delete { .. } => Some(None),
                TransactAction::Put { item, .. } => {
                    Some(Some((item.clone(), stator_types::item_size(item))))
                }
                TransactAction::Update { key, update, .. } => {
                    let mut next = old_item.cloned().unwrap_or_else(|| key.clone());
                    let computed = stator_expr::apply_update(update, &mut next)
                        .map_err(DynamoError::from)
                        .and_then(|_| {
                            let size = check_updated_size(&next)?;
                            check_item(meta, &next)?;
                            Ok(size)
                        });
                    match computed {
                        Ok(size) => Some(Some((next, size))),
                        Err(e) if e.kind == ErrorKind::InternalServerError => return Err(e),
                        Err(e) => {
                            failed = true;
                            reasons.push(CancellationReason::new(
                                CancellationCode::ValidationError,
                                e.message,
                                None,
                            ));
                            continue;
                        }
                    }
                }
            };
            reasons.push(CancellationReason::none());
            planned.push(Planned {
                table_index: ti,
                storage_key,
                pk,
                old,
                new,
            });
        }
        if failed {
            return Err(DynamoError::transaction_canceled(reasons));
        }

        // Phase 2: apply every write; the caller commits once.
        let mut tallies: Vec<CapacityTally> = metas
            .iter()
            .map(|m| CapacityTally::new(&m.name, CapacityKind::Write))
            .collect();
        let mut metrics: Vec<(String, Vec<CollectionMetrics>)> = Vec::new();
        for (i, plan) in planned.iter().enumerate() {
            let meta = &metas[plan.table_index];
            let old_size = plan.old.as_ref().map_or(0, |o| o.size);
            let hash = keys::hash_of(&plan.storage_key);
            let Some(new) = &plan.new else {
                // A ConditionCheck is charged like a write of the item it checked.
                let units = 2.0 * write_units(old_size, 0);
                let one = ConsumedCapacity {
                    table_units: units,
                    ..ConsumedCapacity::zero(&meta.name, CapacityKind::Write)
                };
                self.charge_admitted(meta, &one, hash)
                    .map_err(|e| throttle_cancellation(req.writes.len(), i, e))?;
                tallies[plan.table_index].units += units;
                continue;
            };
            let encoded = new.as_ref().map(|(item, size)| encode_stored(item, *size));
            let applied = write::apply(
                txn,
                Change {
                    table: meta,
                    key: ItemKey {
                        storage: &plan.storage_key,
                        partition: &plan.pk,
                    },
                    old: plan.old.as_ref(),
                    new: new
                        .as_ref()
                        .zip(encoded.as_deref())
                        .map(|((item, size), encoded)| NewItem {
                            item,
                            size: *size,
                            encoded,
                        }),
                    cause: Cause::User,
                },
                self.config.item_collection_limit,
            );
            let mut applied = match applied {
                Ok(a) => a,
                Err(e) if e.kind == ErrorKind::ItemCollectionSizeLimitExceeded => {
                    let mut reasons: Vec<CancellationReason> = (0..req.writes.len())
                        .map(|_| CancellationReason::none())
                        .collect();
                    reasons[i] = CancellationReason::new(
                        CancellationCode::ItemCollectionSizeLimitExceeded,
                        e.message,
                        None,
                    );
                    return Err(DynamoError::transaction_canceled(reasons));
                }
                Err(e) => return Err(e),
            };
            let doubled = |list: &[(String, f64)]| -> Vec<(String, f64)> {
                list.iter().map(|(n, u)| (n.clone(), 2.0 * u)).collect()
            };
            let one = ConsumedCapacity {
                table_name: meta.name.clone(),
                table_units: 2.0 * applied.table_units,
                kind: CapacityKind::Write,
                global_indexes: doubled(&applied.index_units.global),
                local_indexes: doubled(&applied.index_units.local),
            };
            self.charge_admitted(meta, &one, hash)
                .map_err(|e| throttle_cancellation(req.writes.len(), i, e))?;
            let tally = &mut tallies[plan.table_index];
            tally.units += 2.0 * applied.table_units;
            tally.add_indexes(&applied.index_units, 2.0);
            if let Some(m) = applied.collection.take() {
                match metrics.iter_mut().find(|(t, _)| *t == meta.name) {
                    Some((_, list)) => list.push(m),
                    None => metrics.push((meta.name.clone(), vec![m])),
                }
            }
        }
        Ok(TransactWriteOutput {
            consumed: tallies
                .into_iter()
                .map(CapacityTally::into_consumed)
                .collect(),
            collection_metrics: metrics,
        })
    }
}
