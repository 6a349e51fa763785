//! Whom one reconcile acts as: the rule of [`crate::identity::Tenancy`] applied to an
//! Application, with the client and engine kept between reconciles while it stays the same.

use std::sync::Arc;

use crate::application::Application;
use crate::context::{AppState, Context};
use crate::error::{Error, Result};
use crate::identity::Acting;

/// The clients and engine to act through for `app` ([`crate::identity`]) toward its
/// destination cluster: the controller's own only for an admin namespace's app naming no
/// account, else ones that impersonate the app's ServiceAccount (kept between reconciles
/// while identity and destination stay the same). An app that moved to another cluster
/// forgets what it knew of the old one's inventory.
pub(crate) async fn acting_for(
    ctx: &Context,
    app: &Application,
    state: &mut AppState,
) -> Result<Acting> {
    let account = app.spec.destination.service_account_name.as_deref();
    let identity = ctx
        .settings
        .tenancy
        .identity(&app.key().namespace, account)
        .map_err(Error::Spec)?;
    let destination = ctx.clusters.destination(app).await?;
    if let Some(acting) = &state.acting {
        if acting.identity == identity && Arc::ptr_eq(&acting.destination, &destination) {
            return Ok(acting.clone());
        }
        if !Arc::ptr_eq(&acting.destination, &destination) {
            acting.destination.live.unregister(&app.key());
            state.inventory = None;
            state.kept_cache = None;
        }
    }
    let acting = Acting::new(identity, &ctx.client, &ctx.config, &destination).await?;
    state.acting = Some(acting.clone());
    Ok(acting)
}
