//! Where uploaded files live: a folder under `$APP_DATA_DIR/uploads/` by default, or an S3-compatible
//! bucket by setting — the same code either way, through `object_store`.

use crate::server::platform::error::Error;
use crate::server::platform::secrets::new_id;
use crate::server::platform::settings::Settings;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

/// Avatar file names are made here, never taken from the upload: 128 random bits and the extension of
/// the format the server encoded.
pub fn is_avatar_name(name: &str) -> bool {
    name.strip_suffix(".jpg").is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn avatar_path(name: &str) -> Path {
    Path::from(format!("avatars/{name}"))
}

impl Storage {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let s3 = &settings.storage;
        let store: Arc<dyn ObjectStore> = match &s3.s3_bucket {
            Some(bucket) => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket).with_region(&s3.s3_region);
                if let Some(endpoint) = &s3.s3_endpoint {
                    let endpoint = endpoint.as_str().trim_end_matches('/');
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&s3.s3_access_key_id, &s3.s3_secret_access_key) {
                    let secret = secrecy::ExposeSecret::expose_secret(secret);
                    builder = builder.with_access_key_id(id).with_secret_access_key(secret);
                }
                Arc::new(builder.build().map_err(|e| format!("invalid S3 settings (storage.s3_*): {e}"))?)
            }
            None => {
                let dir = settings.app.data_dir.join("uploads");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create the uploads folder {}: {e}", dir.display()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(&dir)
                        .map_err(|e| format!("cannot use the uploads folder {}: {e}", dir.display()))?,
                )
            }
        };
        Ok(Self { store })
    }

    /// Stores an encoded avatar under a new name and returns the name.
    pub async fn put_avatar(&self, jpeg: Vec<u8>) -> Result<String, Error> {
        let name = format!("{}.jpg", new_id());
        self.store
            .put(&avatar_path(&name), PutPayload::from(jpeg))
            .await
            .map_err(|e| Error::Internal(format!("storing an avatar failed: {e}")))?;
        Ok(name)
    }

    pub async fn get_avatar(&self, name: &str) -> Result<Option<Bytes>, Error> {
        match self.store.get(&avatar_path(name)).await {
            Ok(found) => {
                Ok(Some(found.bytes().await.map_err(|e| Error::Internal(format!("reading an avatar failed: {e}")))?))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::Internal(format!("reading an avatar failed: {e}"))),
        }
    }

    pub async fn delete_avatar(&self, name: &str) -> Result<(), Error> {
        match self.store.delete(&avatar_path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::Internal(format!("deleting an avatar failed: {e}"))),
        }
    }
}
