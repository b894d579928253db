//! A folder's files in memory, by path relative to its root (`/`-separated), read and
//! written within stated bounds.

use crate::ApiOpsError;
use std::collections::BTreeMap;
use std::path::Path;

/// A folder holds at most this many files.
pub const MAX_FILES: usize = 20_000;
/// A file has at most this many bytes.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;
/// Folders nest at most this deep.
pub const MAX_DEPTH: usize = 12;

/// Files by relative path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artifacts(pub BTreeMap<String, Vec<u8>>);

impl Artifacts {
    pub fn insert(&mut self, path: impl Into<String>, content: impl Into<Vec<u8>>) {
        self.0.insert(path.into(), content.into());
    }

    /// A JSON file written as an extract writes it: two-space indentation, a final new line.
    pub fn insert_json(&mut self, path: impl Into<String>, value: &serde_json::Value) {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        self.insert(path, text);
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.0.get(path).map(Vec::as_slice)
    }

    pub fn text(&self, path: &str) -> Option<String> {
        self.get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    pub fn json(&self, path: &str) -> Result<Option<serde_json::Value>, ApiOpsError> {
        match self.get(path) {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(bytes)
                    .map(Some)
                    .map_err(|e| ApiOpsError::Artifact {
                        path: path.to_owned(),
                        message: format!("not JSON: {e}"),
                    })
            }
        }
    }

    /// The names of the folders right under `dir` (`apis` → `["echo", "orders"]`).
    pub fn children(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        let mut names: Vec<String> = self
            .0
            .keys()
            .filter_map(|path| path.strip_prefix(&prefix))
            .filter_map(|rest| rest.split_once('/').map(|(name, _)| name.to_owned()))
            .collect();
        names.dedup();
        names
    }

    /// Reads every file under `root`.
    pub fn read(root: &Path) -> Result<Self, ApiOpsError> {
        let mut found = Self::default();
        let mut pending = vec![(root.to_path_buf(), String::new(), 0usize)];
        while let Some((dir, relative, depth)) = pending.pop() {
            if depth > MAX_DEPTH {
                return Err(ApiOpsError::Artifact {
                    path: relative,
                    message: format!("folders nest deeper than {MAX_DEPTH}"),
                });
            }
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue; // .git, editor files
                }
                let path = if relative.is_empty() {
                    name.clone()
                } else {
                    format!("{relative}/{name}")
                };
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push((entry.path(), path, depth + 1));
                } else if kind.is_file() {
                    if entry.metadata()?.len() > MAX_FILE_BYTES {
                        return Err(ApiOpsError::Artifact {
                            path,
                            message: format!("larger than {} MiB", MAX_FILE_BYTES >> 20),
                        });
                    }
                    found.insert(path, std::fs::read(entry.path())?);
                    if found.0.len() > MAX_FILES {
                        return Err(ApiOpsError::Artifact {
                            path: relative,
                            message: format!("more than {MAX_FILES} files"),
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    /// Writes every file under `root` (folders made as needed).
    pub fn write(&self, root: &Path) -> Result<(), ApiOpsError> {
        for (path, content) in &self.0 {
            let target = root.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, content)?;
        }
        Ok(())
    }
}
