//! Request traces shared between nodes, and the key their tokens are signed with.
//!
//! A trace is recorded by whichever gateway node served the traced call; the portal that
//! asked for it may be another process. Gateways write finished traces here (as JSON, kept
//! for [`TRACES_KEPT_FOR_MS`]) and every node signs and checks trace tokens with one key,
//! created by the first node that asks for it.

use crate::entity::{cluster_key, trace};
use crate::{Store, StoreError};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

/// How long a shared trace is kept.
const TRACES_KEPT_FOR_MS: i64 = 15 * 60 * 1000;

const TRACE_KEY: &str = "trace";

impl Store {
    /// The key every node signs trace tokens with; made (randomly) by the first node to ask.
    pub async fn trace_key(&self) -> Result<[u8; 32], StoreError> {
        let fresh: [u8; 32] = rand::random();
        cluster_key::Entity::insert(cluster_key::ActiveModel {
            name: Set(TRACE_KEY.to_owned()),
            secret: Set(hex::encode(fresh)),
        })
        .on_conflict(
            OnConflict::column(cluster_key::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(&self.db)
        .await?;
        let stored = cluster_key::Entity::find_by_id(TRACE_KEY.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the trace key was not stored".to_owned()))?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(&stored.secret, &mut key)
            .map_err(|e| StoreError::Corrupt(format!("the trace key: {e}")))?;
        Ok(key)
    }

    /// Keeps a finished trace (JSON) for the portal, and drops traces past their time.
    pub async fn save_trace(
        &self,
        id: &str,
        service: &str,
        at_ms: i64,
        record: String,
    ) -> Result<(), StoreError> {
        trace::Entity::delete_many()
            .filter(trace::Column::AtMs.lt(at_ms - TRACES_KEPT_FOR_MS))
            .exec(&self.db)
            .await?;
        trace::Entity::insert(trace::ActiveModel {
            id: Set(id.to_owned()),
            service: Set(service.to_owned()),
            at_ms: Set(at_ms),
            record: Set(record),
        })
        .on_conflict(
            OnConflict::column(trace::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(&self.db)
        .await?;
        Ok(())
    }

    /// A shared trace (JSON) of `service` by id, if one was kept.
    pub async fn trace(&self, service: &str, id: &str) -> Result<Option<String>, StoreError> {
        Ok(trace::Entity::find_by_id(id.to_owned())
            .filter(trace::Column::Service.eq(service))
            .one(&self.db)
            .await?
            .map(|row| row.record))
    }
}
