//! Exceptions, the failures that need a person: reading them, and what an operator does with
//! one (retry, edit and retry, resolve), including putting a held order back where it was.

use crossdock_domain::ErrorCode;
use crossdock_store::{Exception, ExceptionAction, ExceptionFilter, Store};

use crate::inventory::now;
use crate::{EngineError, Inventory};

impl Inventory {
    /// Exceptions matching `filter`, from the store.
    pub async fn exceptions(&self, filter: ExceptionFilter) -> Result<Vec<Exception>, EngineError> {
        Ok(self.store().exceptions(filter).await?)
    }

    /// One exception, from the store.
    pub async fn exception(&self, id: &str) -> Result<Option<Exception>, EngineError> {
        Ok(self.store().exception(id).await?)
    }

    /// Retries (with an edited payload, when given) or resolves an exception. When the
    /// exception's job put its order on hold (fraud, credit), the order first goes back to
    /// where it was: a retry runs the check again, a resolve approves the order past it.
    pub async fn act_on_exception(
        &self,
        id: &str,
        action: ExceptionAction,
        payload: Option<serde_json::Value>,
    ) -> Result<Option<Exception>, EngineError> {
        let Some(exception) = self.exception(id).await? else {
            return Ok(None);
        };
        let store = &self.store();
        // Resolving a hold approves the order past its check; resolving a price mismatch
        // accepts the invoices as they are: either way the job runs again, approved.
        let approves = exception.code == ErrorCode::PriceMismatch;
        if (crate::saga::release_hold(self, &exception).await? || approves)
            && action == ExceptionAction::Resolve
        {
            let approved = serde_json::json!({"approved": true});
            store
                .act_on_exception(id, ExceptionAction::Retry, Some(approved), now())
                .await?;
        }
        Ok(store.act_on_exception(id, action, payload, now()).await?)
    }
}
