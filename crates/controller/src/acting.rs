//! Whom one reconcile acts as: the rule of [`crate::identity::Tenancy`] applied to an
//! Application, with the client and engine kept between reconciles while it stays the same.

use std::sync::Arc;

use crate::application::Application;
use crate::context::{AppState, Context};
use crate::error::{Error, Result};
use crate::identity::Acting;

/// The client and engine to act through for `app` ([`crate::identity`]): the
/// controller's own only for an admin namespace's app naming no account, else ones that
/// impersonate the app's ServiceAccount (kept between reconciles while it stays the same).
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
    if let Some(acting) = &state.acting
        && acting.identity == identity
    {
        return Ok(acting.clone());
    }
    let controller = Acting::controller(ctx.client.clone(), Arc::clone(&ctx.engine));
    let acting = Acting::new(identity, &ctx.config, &controller).await?;
    state.acting = Some(acting.clone());
    Ok(acting)
}
