//! Who may call: a service's active subscriptions, indexed by key.
//!
//! This is the one part of the configuration that runs to 100,000s of entries, so it is
//! built to be small and to outlive snapshots:
//! * a key is kept as its 16 bytes, not 32 hex digits, and indexes one entry per
//!   subscription (`index × 2 + slot`), so a subscription costs ~170 bytes in all;
//! * scopes name their API or product instead of pointing at a position in the service's
//!   lists, so the table stays valid while APIs, products and policies change around it. A
//!   reload that did not touch subscriptions hands the previous table on instead of reading
//!   and rebuilding every row (see [`crate::SnapshotHandle::publish`]).

use portcullis_domain::SubscriptionScope;
use portcullis_domain::model::SubscriptionConfig;
use portcullis_policy::exchange::{CallerSubscription, KeySlot, SubscriptionInfo};
use std::collections::HashMap;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A subscription key's 16 bytes (keys are 32 lowercase hex digits).
pub type KeyBytes = [u8; 16];

/// The bytes of a well-formed key; `None` for anything that cannot be a key (APIM keys are
/// case-sensitive, so uppercase digits are not one).
pub fn key_bytes(text: &str) -> Option<KeyBytes> {
    let lowercase_hex = text.len() == 32
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let mut bytes = [0; 16];
    (lowercase_hex && hex::decode_to_slice(text, &mut bytes).is_ok()).then_some(bytes)
}

/// What an active subscription opens.
#[derive(Debug)]
pub struct Grant {
    /// What policy expressions may read of the subscription (`context.Subscription`),
    /// shared into each request's exchange with one reference count.
    pub info: Arc<SubscriptionInfo>,
    pub scope: GrantScope,
}

/// A subscription's scope, by name. Names are shared: 100,000 subscriptions to one product
/// hold one copy of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantScope {
    AllApis,
    Api(Arc<str>),
    Product(Arc<str>),
}

/// A presented key that belongs to an active subscription.
#[derive(Debug, Clone, Copy)]
pub struct KeyMatch<'t> {
    pub grant: &'t Grant,
    pub slot: KeySlot,
}

impl KeyMatch<'_> {
    /// The subscription as the call's policies see it.
    pub fn caller(&self) -> CallerSubscription {
        CallerSubscription {
            info: self.grant.info.clone(),
            presented: self.slot,
        }
    }
}

/// The active subscriptions of one service.
#[derive(Debug, Default)]
pub struct GrantTable {
    /// Key → `grant index × 2 + slot` (0 primary, 1 secondary).
    by_key: HashMap<KeyBytes, u32>,
    grants: Vec<Grant>,
}

impl GrantTable {
    /// Builds the table from a service's subscriptions; inactive ones are left out.
    pub fn build<'a>(subscriptions: impl IntoIterator<Item = &'a SubscriptionConfig>) -> Self {
        let mut builder = GrantTableBuilder::default();
        for subscription in subscriptions {
            builder.add(subscription);
        }
        builder.finish()
    }

    /// The active subscription a presented key belongs to, compared in constant time once
    /// found.
    pub fn find(&self, presented: &str) -> Option<KeyMatch<'_>> {
        let presented = key_bytes(presented)?;
        let entry = *self.by_key.get(&presented)?;
        let grant = self.grants.get(usize::try_from(entry / 2).ok()?)?;
        let slot = if entry % 2 == 0 {
            KeySlot::Primary
        } else {
            KeySlot::Secondary
        };
        bool::from(grant.info.key(slot).ct_eq(&presented)).then_some(KeyMatch { grant, slot })
    }

    /// How many subscriptions are active.
    pub fn len(&self) -> usize {
        self.grants.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }
}

/// Builds a [`GrantTable`] one subscription at a time, so that a reload can turn each row
/// into its compact entry as it arrives instead of holding them all first.
#[derive(Debug, Default)]
pub struct GrantTableBuilder {
    table: GrantTable,
    /// One shared copy of each scope name.
    names: HashMap<String, Arc<str>>,
}

impl GrantTableBuilder {
    /// Adds a subscription; an inactive one opens nothing and is left out.
    pub fn add(&mut self, subscription: &SubscriptionConfig) {
        if !subscription.settings.state.is_active() {
            return;
        }
        let scope = match &subscription.settings.scope {
            SubscriptionScope::AllApis => GrantScope::AllApis,
            SubscriptionScope::Api(name) => GrantScope::Api(self.shared(name.as_str())),
            SubscriptionScope::Product(name) => GrantScope::Product(self.shared(name.as_str())),
        };
        let (Some(primary), Some(secondary)) = (
            key_bytes(subscription.primary_key.expose()),
            key_bytes(subscription.secondary_key.expose()),
        ) else {
            // SubscriptionKey guarantees the form; a key that is not one opens nothing.
            tracing::warn!(subscription = %subscription.name, "malformed key; subscription off");
            return;
        };
        let table = &mut self.table;
        let Some(entry) = u32::try_from(table.grants.len())
            .ok()
            .and_then(|i| i.checked_mul(2))
        else {
            tracing::warn!(subscription = %subscription.name, "over two billion subscriptions in one service; off");
            return;
        };
        table.by_key.insert(primary, entry);
        table.by_key.insert(secondary, entry + 1);
        table.grants.push(Grant {
            info: Arc::new(SubscriptionInfo {
                name: Arc::from(subscription.name.as_str()),
                keys: [primary, secondary],
            }),
            scope,
        });
    }

    fn shared(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        self.names.insert(name.to_owned(), shared.clone());
        shared
    }

    pub fn finish(mut self) -> GrantTable {
        self.table.grants.shrink_to_fit();
        self.table.by_key.shrink_to_fit();
        self.table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_domain::model::SubscriptionSettings;
    use portcullis_domain::{
        DisplayName, ProductName, SubscriptionKey, SubscriptionName, SubscriptionState,
    };

    const PRIMARY: &str = "0123456789abcdef0123456789abcdef";
    const SECONDARY: &str = "fedcba9876543210fedcba9876543210";

    fn subscription(name: &str, state: SubscriptionState) -> SubscriptionConfig {
        SubscriptionConfig {
            name: SubscriptionName::parse(name).expect("a valid name"),
            settings: SubscriptionSettings {
                display_name: DisplayName::parse(name).expect("a valid display name"),
                scope: SubscriptionScope::Product(
                    ProductName::parse("starter").expect("a valid product name"),
                ),
                state,
            },
            primary_key: SubscriptionKey::parse(PRIMARY).expect("a valid key"),
            secondary_key: SubscriptionKey::parse(SECONDARY).expect("a valid key"),
        }
    }

    #[test]
    fn only_well_formed_lowercase_keys_have_bytes() {
        assert_eq!(
            key_bytes(PRIMARY).map(hex::encode).as_deref(),
            Some(PRIMARY)
        );
        assert_eq!(key_bytes(&PRIMARY.to_uppercase()), None);
        assert_eq!(key_bytes(&PRIMARY[..31]), None);
        assert_eq!(key_bytes(&format!("{PRIMARY}0")), None);
        assert_eq!(key_bytes("0123456789abcdef0123456789abcdeg"), None);
        assert_eq!(key_bytes("é123456789abcdef0123456789abcde"), None);
    }

    #[test]
    fn both_keys_find_their_subscription_and_say_which_they_are() {
        let table = GrantTable::build(&[subscription("alice", SubscriptionState::Active)]);
        let primary = table.find(PRIMARY).expect("the primary key opens");
        assert_eq!(&*primary.grant.info.name, "alice");
        assert_eq!(primary.slot, KeySlot::Primary);
        let secondary = table.find(SECONDARY).expect("the secondary key opens");
        assert_eq!(secondary.slot, KeySlot::Secondary);
        assert_eq!(secondary.caller().info.key_text(KeySlot::Primary), PRIMARY);
        assert_eq!(
            primary.grant.scope,
            GrantScope::Product(Arc::from("starter"))
        );
        assert!(table.find(&PRIMARY.replace('0', "1")).is_none());
        assert!(table.find(&PRIMARY.to_uppercase()).is_none());
    }

    #[test]
    fn inactive_subscriptions_open_nothing() {
        let table = GrantTable::build(&[subscription("bob", SubscriptionState::Suspended)]);
        assert!(table.is_empty());
        assert!(table.find(PRIMARY).is_none());
    }
}
