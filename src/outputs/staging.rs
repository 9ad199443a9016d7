//! Output sets that appear whole or not at all.
//!
//! A job that writes a folder of products (`outlook`, `verify`, `combine`, `bias-correct`,
//! `emergency`, `export`, `cyclones`) opens an [`OutputSet`] on its `--out` folder:
//! 1. it takes the folder's lock, `.s2s.lock` (created exclusively, holding the process id):
//!    a second run into the same folder is refused with a clear error while the first lives;
//!    a lock left by a killed run (its process is gone) is taken over;
//! 2. it cleans what killed runs left: temporaries `.<name>.tmp-<pid>…` of dead processes,
//!    and staging folders `.s2s-stage-<pid>` — rolled forward (moved in) when they hold the
//!    `.complete` marker of a finished run, removed otherwise;
//! 3. every file the job writes under `--out` goes to the same relative path inside the
//!    staging folder `--out/.s2s-stage-<pid>` ([`staged`] maps it; the writers of `io` and
//!    `bulletin` call it), itself through a temporary name and a rename;
//! 4. [`OutputSet::commit`] marks the stage complete and renames each file into place; if the
//!    job fails (or the set is dropped without commit) the stage is removed and the previous
//!    outputs stay as they were.
//!
//! Renaming one file over another is atomic on POSIX file systems; a run killed during the
//! moves of step 4 leaves a complete stage that the next run into the folder finishes moving.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Name of a folder's lock file.
pub const LOCK_FILE: &str = ".s2s.lock";
/// Prefix of staging folders (followed by the process id).
const STAGE_PREFIX: &str = ".s2s-stage-";
/// Marker written into a stage once every file is in it.
const COMPLETE_MARKER: &str = ".complete";

/// Output folders with an open set: (folder as given, canonical folder, stage).
static ACTIVE: Mutex<Vec<(PathBuf, PathBuf, PathBuf)>> = Mutex::new(Vec::new());

fn active() -> std::sync::MutexGuard<'static, Vec<(PathBuf, PathBuf, PathBuf)>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

fn werr(path: &Path, reason: impl Into<String>) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Whether the process `pid` is alive (Linux: `/proc/<pid>` exists; elsewhere assumed alive).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// The process id in a temporary's or stage's name (`.x.nc.tmp-1234`, `.x.png.tmp-1234.png`,
/// `.s2s-stage-1234`).
fn pid_in_name(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix(STAGE_PREFIX)
        .or_else(|| name.rsplit_once(".tmp-").map(|(_, r)| r))?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The folder of outputs of one job, written into a staging folder and moved in at the end.
#[derive(Debug)]
pub struct OutputSet {
    out: PathBuf,
    stage: PathBuf,
    lock: PathBuf,
    done: bool,
    /// The highest folder of `out`'s path that this set created (none when `out` existed):
    /// a failed run removes what it created, so it leaves no empty output folder behind.
    created: Option<PathBuf>,
}

impl OutputSet {
    /// Opens the set of `out` (created if missing): lock, clean-up of killed runs, stage.
    pub fn begin(out: &Path) -> Result<OutputSet> {
        let created = out
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .last()
            .map(Path::to_path_buf);
        std::fs::create_dir_all(out)
            .map_err(|e| werr(out, format!("cannot create the folder: {e}")))?;
        let lock = take_lock(out)?;
        let stage = out.join(format!("{STAGE_PREFIX}{}", std::process::id()));
        let set = OutputSet {
            out: out.to_path_buf(),
            stage: stage.clone(),
            lock,
            done: false,
            created,
        };
        clean_after_killed_runs(out)?;
        std::fs::create_dir(&stage)
            .map_err(|e| werr(&stage, format!("cannot create the staging folder: {e}")))?;
        let canonical = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
        active().push((out.to_path_buf(), canonical, stage));
        Ok(set)
    }

    /// Moves every staged file into the output folder (complete stage first marked, so a
    /// run killed half-way is finished by the next one) and releases the folder.
    pub fn commit(mut self) -> Result<()> {
        let marker = self.stage.join(COMPLETE_MARKER);
        std::fs::write(&marker, b"").map_err(|e| {
            werr(
                &marker,
                format!("cannot mark the staged outputs complete: {e}"),
            )
        })?;
        move_in(&self.stage, &self.out)?;
        log::info!("outputs moved into {} as one set", self.out.display());
        self.done = true;
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        active().retain(|(_, _, s)| s != &self.stage);
        if !self.done || self.stage.exists() {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
        let _ = std::fs::remove_file(&self.lock);
        if let (false, Some(top)) = (self.done, &self.created) {
            // Only empty folders go (remove_dir refuses others): those this set created.
            for dir in self.out.ancestors() {
                if std::fs::remove_dir(dir).is_err() || dir == top.as_path() {
                    break;
                }
            }
        }
    }
}

/// Takes `out/.s2s.lock`, or says which live run holds it.
fn take_lock(out: &Path) -> Result<PathBuf> {
    let lock = out.join(LOCK_FILE);
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut f) => {
                let _ = writeln!(f, "{}", std::process::id());
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&lock)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                match holder {
                    Some(pid) if process_alive(pid) => {
                        return Err(werr(
                            out,
                            format!("another s2s run (process {pid}) is writing into this folder: wait for it to finish or choose another output folder"),
                        ))
                    }
                    // a killed run's lock (or one being written this instant: retry)
                    Some(_) => {
                        let _ = std::fs::remove_file(&lock);
                    }
                    None => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
            Err(e) => return Err(werr(&lock, format!("cannot create the lock file: {e}"))),
        }
    }
    Err(werr(
        &lock,
        "the lock file exists and names no live process: remove it if no s2s run is writing here",
    ))
}

/// Removes temporaries of dead processes in `out` and its direct subfolders, finishes complete
/// stages of killed runs and removes incomplete ones.
fn clean_after_killed_runs(out: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    let mut subfolders = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if name.starts_with(STAGE_PREFIX) && is_dir {
            if pid_in_name(&name).is_some_and(|p| !process_alive(p)) {
                if e.path().join(COMPLETE_MARKER).exists() {
                    move_in(&e.path(), out)?;
                } else {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        } else if is_dir {
            subfolders.push(e.path());
        } else {
            remove_dead_temporary(&e.path(), &name);
        }
    }
    for dir in subfolders {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            remove_dead_temporary(&e.path(), &name);
        }
    }
    Ok(())
}

fn remove_dead_temporary(path: &Path, name: &str) {
    if name.starts_with('.') && name.contains(".tmp-") {
        if let Some(pid) = pid_in_name(name) {
            if !process_alive(pid) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Moves every file of `stage` (recursively) to the same relative path in `out`, then
/// removes `stage`.
fn move_in(stage: &Path, out: &Path) -> Result<()> {
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let from_dir = stage.join(&rel);
        let entries = std::fs::read_dir(&from_dir).map_err(|e| werr(&from_dir, e.to_string()))?;
        for e in entries {
            let e = e.map_err(|e| werr(&from_dir, e.to_string()))?;
            let name = e.file_name();
            let rel_e = rel.join(&name);
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                std::fs::create_dir_all(out.join(&rel_e)).map_err(|err| {
                    werr(
                        &out.join(&rel_e),
                        format!("cannot create the folder: {err}"),
                    )
                })?;
                pending.push(rel_e);
            } else if name != COMPLETE_MARKER {
                let to = out.join(&rel_e);
                std::fs::rename(e.path(), &to).map_err(|err| {
                    werr(&to, format!("cannot move the output into place: {err}"))
                })?;
            }
        }
    }
    std::fs::remove_dir_all(stage).map_err(|e| werr(stage, e.to_string()))
}

/// Runs `job` with the outputs under `out` as one set: begun, and committed when the job
/// succeeds (dropped, so removed, when it fails).
pub fn as_one_set<T>(out: &Path, job: impl FnOnce() -> Result<T>) -> Result<T> {
    let set = OutputSet::begin(out)?;
    let done = job()?;
    set.commit()?;
    Ok(done)
}

/// Where a file meant for `target` is written now: inside the stage of an open output set
/// when `target` lies in its folder (parent folders created), else `target` itself.
pub fn staged(target: &Path) -> Result<PathBuf> {
    let mapped = {
        let sets = active();
        sets.iter().find_map(|(given, canonical, stage)| {
            if let Ok(rel) = target.strip_prefix(given) {
                return Some(stage.join(rel));
            }
            let parent = target.parent()?;
            let cp = std::fs::canonicalize(parent).ok()?;
            let rel = cp.strip_prefix(canonical).ok()?;
            Some(stage.join(rel).join(target.file_name()?))
        })
    };
    match mapped {
        Some(p) => {
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| werr(parent, format!("cannot create the folder: {e}")))?;
            }
            Ok(p)
        }
        None => Ok(target.to_path_buf()),
    }
}

/// The temporary name `.<name>.tmp-<pid>[.<ext>]` beside `target`, whose folder must exist
/// (the extension kept when asked, for writers that choose the format by it).
pub fn temporary_beside(target: &Path, keep_extension: bool) -> Result<PathBuf> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(werr(
            target,
            format!("directory {} does not exist", dir.display()),
        ));
    }
    let name = target
        .file_name()
        .ok_or_else(|| werr(target, "no file name"))?
        .to_string_lossy()
        .into_owned();
    let ext = match (keep_extension, target.extension()) {
        (true, Some(e)) => format!(".{}", e.to_string_lossy()),
        _ => String::new(),
    };
    Ok(dir.join(format!(".{name}.tmp-{}{ext}", std::process::id())))
}

/// Writes the file `target` with `write` (given the path to write): the output-set stage and
/// the overwrite rules applied, a temporary name beside the final one, renamed on success and
/// removed on failure — never a partial file under the final name.
pub fn write_through_temporary(
    target: &Path,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    super::clobber::check_output(target)?;
    let place = staged(target)?;
    let tmp = temporary_beside(&place, true)?;
    if let Err(e) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &place).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(
            target,
            format!("cannot move the finished file into place: {e}"),
        )
    })?;
    log::info!(
        "wrote {} ({} bytes)",
        target.display(),
        std::fs::metadata(&place).map_or(0, |m| m.len())
    );
    Ok(target.to_path_buf())
}

/// Writes several files given by name (`--out`, `--stitchnodes`) as one set: every target
/// checked, every temporary written, then the renames — a failure before the renames leaves
/// every previous file as it was.
pub fn write_files_together(files: &[(&Path, &[u8])]) -> Result<()> {
    let mut ready: Vec<(PathBuf, PathBuf)> = Vec::new();
    let cleanup = |ready: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in ready {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (target, bytes) in files {
        let prepared = (|| {
            super::clobber::check_output(target)?;
            let place = staged(target)?;
            let tmp = temporary_beside(&place, false)?;
            ready.push((tmp.clone(), place));
            std::fs::write(&tmp, bytes).map_err(|e| werr(target, e.to_string()))
        })();
        if let Err(e) = prepared {
            cleanup(&ready);
            return Err(e);
        }
    }
    for (tmp, place) in &ready {
        std::fs::rename(tmp, place).map_err(|e| {
            cleanup(&ready);
            werr(
                place,
                format!("cannot move the finished file into place: {e}"),
            )
        })?;
    }
    for (target, bytes) in files {
        log::info!("wrote {} ({} bytes)", target.display(), bytes.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_appears_whole_at_commit_and_not_at_all_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("a.txt"), "old").unwrap();
        // failure: dropped without commit, the old file stays, no stage left
        {
            let _set = OutputSet::begin(&out).unwrap();
            write_through_temporary(&out.join("a.txt"), |p| {
                std::fs::write(p, "new").map_err(|e| werr(p, e.to_string()))
            })
            .unwrap();
            assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "old");
            // a second run into the same folder is refused while this one holds it
            let e = OutputSet::begin(&out).unwrap_err().to_string();
            assert!(e.contains("another s2s run"), "{e}");
        }
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "old");
        let names = |d: &Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names(&out), ["a.txt"]);
        // success: both files appear, in a subfolder too
        let set = OutputSet::begin(&out).unwrap();
        for (p, t) in [("a.txt", "new"), ("region/b.txt", "b")] {
            write_through_temporary(&out.join(p), |tmp| {
                std::fs::write(tmp, t).map_err(|e| werr(tmp, e.to_string()))
            })
            .unwrap();
        }
        assert!(!out.join("region/b.txt").exists());
        set.commit().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "new");
        assert_eq!(
            std::fs::read_to_string(out.join("region/b.txt")).unwrap(),
            "b"
        );
        assert_eq!(names(&out), ["a.txt", "region"]);
    }

    #[test]
    fn a_failed_set_removes_the_folders_it_created_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new").join("out");
        {
            let set = OutputSet::begin(&out).unwrap();
            assert!(out.is_dir());
            drop(set);
        }
        assert!(!dir.path().join("new").exists());
        assert!(dir.path().is_dir());
        // A folder that existed stays, empty or not.
        let kept = dir.path().join("kept");
        std::fs::create_dir(&kept).unwrap();
        drop(OutputSet::begin(&kept).unwrap());
        assert!(kept.is_dir());
        // A committed set keeps the folders it created.
        let fresh = dir.path().join("fresh");
        OutputSet::begin(&fresh).unwrap().commit().unwrap();
        assert!(fresh.is_dir());
        // A file written outside the stage into a created folder keeps it.
        let mixed = dir.path().join("mixed");
        {
            let _set = OutputSet::begin(&mixed).unwrap();
            std::fs::write(mixed.join("note.txt"), "kept").unwrap();
        }
        assert!(mixed.join("note.txt").is_file());
    }

    #[test]
    fn what_killed_runs_left_is_finished_or_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        // a pid that cannot be alive (above the kernel's pid_max of 2^22)
        let dead = 4_194_305u32;
        std::fs::write(out.join(format!(".x.nc.tmp-{dead}")), "partial").unwrap();
        std::fs::write(out.join(format!(".m.png.tmp-{dead}.png")), "partial").unwrap();
        std::fs::write(out.join(LOCK_FILE), format!("{dead}\n")).unwrap();
        let complete = out.join(format!("{STAGE_PREFIX}{dead}"));
        std::fs::create_dir_all(complete.join("r")).unwrap();
        std::fs::write(complete.join("r/done.txt"), "finished").unwrap();
        std::fs::write(complete.join(COMPLETE_MARKER), "").unwrap();
        let set = OutputSet::begin(out).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("r/done.txt")).unwrap(),
            "finished"
        );
        assert!(!complete.exists());
        assert!(!out.join(format!(".x.nc.tmp-{dead}")).exists());
        assert!(!out.join(format!(".m.png.tmp-{dead}.png")).exists());
        drop(set);
        // an incomplete stage of a killed run is removed, its files never appear
        let partial = out.join(format!("{STAGE_PREFIX}{dead}"));
        std::fs::create_dir(&partial).unwrap();
        std::fs::write(partial.join("half.txt"), "half").unwrap();
        OutputSet::begin(out).unwrap().commit().unwrap();
        assert!(!partial.exists() && !out.join("half.txt").exists());
        assert!(!out.join(LOCK_FILE).exists());
    }

    #[test]
    fn files_named_apart_are_written_together() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("tracks.csv"), dir.path().join("tracks.txt"));
        std::fs::write(&a, "old").unwrap();
        let unwritable = dir.path().join("no/such/folder/tracks.txt");
        assert!(write_files_together(&[(&a, b"new"), (&unwritable, b"x")]).is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
        write_files_together(&[(&a, b"new"), (&b, b"txt")]).unwrap();
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "txt");
    }

    #[test]
    fn names_of_temporaries_carry_the_process() {
        assert_eq!(pid_in_name(".a.nc.tmp-123"), Some(123));
        assert_eq!(pid_in_name(".a.png.tmp-77.png"), Some(77));
        assert_eq!(pid_in_name(".s2s-stage-9"), Some(9));
        assert_eq!(pid_in_name("a.nc"), None);
    }
}
