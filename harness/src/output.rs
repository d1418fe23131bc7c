//! Output-file safety: every `flowmatch` command that writes files checks them here, before
//! any work and before any file is created or truncated, so that no command can destroy a
//! file it was asked to read (`replay --input x --events x` used to leave `x` empty) or
//! fail after minutes of work because an output path is a directory.
//!
//! Files are compared by identity, not by name: two paths are the same file when they
//! resolve (through symbolic links) to the same device and inode, so `./x`, `dir/../x`, a
//! symbolic link to `x` and a hard link to `x` are all caught.
//!
//! API, for every command:
//! - [`refuse_overwriting_inputs`]`(outputs, inputs)`: each output file must not be an
//!   existing directory, not be the same file as any input, and not be the same file as
//!   another output. Each entry is `(option, path)`; the option (e.g. `"--events"`) names
//!   the entry in the message. An input path of `-` means standard input, compared by the
//!   file standard input is redirected from (if any). Two outputs that do not exist yet
//!   collide when they name one entry of one directory. Nothing is created or opened for
//!   writing; inputs that do not exist are left for the caller's open to report.
//!   Only regular files are compared: writing to a device or a pipe (`/dev/null`,
//!   `/dev/stdout`) destroys nothing, even when an input is the same device.
//! - [`check_output_dir`]`(option, dir)`: a directory that results are written into must
//!   be a directory if it exists (it may not exist yet).
//!
//! Both return `Err(message)` ready to print after the command's name, e.g.
//! `flowmatch replay: --events same.txt is the same file as --input same.txt; refusing to
//! overwrite an input`; callers exit with status 2 (a usage problem).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Identity of an existing file: (device, inode).
type FileId = (u64, u64);

fn file_id(meta: &Metadata) -> FileId {
    (meta.dev(), meta.ino())
}

/// The metadata `path` resolves to (following symbolic links); `-` is standard input.
fn resolve(path: &Path, dash_is_stdin: bool) -> Option<Metadata> {
    if dash_is_stdin && path.as_os_str() == "-" {
        // /dev/stdin resolves to whatever file descriptor 0 is open on.
        return std::fs::metadata("/dev/stdin").ok();
    }
    std::fs::metadata(path).ok()
}

/// Where an output will land: an existing file's identity, or, for a file not created
/// yet, its directory's identity and its name (so two new outputs can still collide).
#[derive(PartialEq, Eq)]
enum Landing<'a> {
    Existing(FileId),
    New(FileId, &'a std::ffi::OsStr),
}

fn landing(path: &Path) -> Option<Landing<'_>> {
    if let Some(meta) = resolve(path, false) {
        return Some(Landing::Existing(file_id(&meta)));
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = std::fs::metadata(parent).ok()?;
    Some(Landing::New(file_id(&dir), name))
}

/// Refuse outputs that would overwrite an input, each other, or that are directories.
/// See the module documentation for the rules and the message format.
pub fn refuse_overwriting_inputs(
    outputs: &[(&str, &Path)],
    inputs: &[(&str, &Path)],
) -> Result<(), String> {
    let inputs: Vec<(&str, &Path, FileId)> = inputs
        .iter()
        .filter_map(|&(opt, p)| resolve(p, true).map(|m| (opt, p, m)))
        // Only a regular file can be destroyed by writing to it; a terminal, a pipe or
        // /dev/null on both sides is harmless.
        .filter(|(_, _, m)| m.is_file())
        .map(|(opt, p, m)| (opt, p, file_id(&m)))
        .collect();
    let mut seen: Vec<(&str, &Path, Landing)> = Vec::with_capacity(outputs.len());
    for &(opt, p) in outputs {
        if let Some(meta) = resolve(p, false) {
            if meta.is_dir() {
                return Err(format!(
                    "{opt} {} is a directory; give a file name",
                    p.display()
                ));
            }
            if !meta.is_file() {
                continue; // a device or a pipe: writing it destroys nothing
            }
            let id = file_id(&meta);
            if let Some(&(in_opt, in_path, _)) = inputs.iter().find(|i| i.2 == id) {
                return Err(format!(
                    "{opt} {} is the same file as {in_opt} {}; refusing to overwrite an input",
                    p.display(),
                    in_path.display()
                ));
            }
        }
        // A path whose directory does not exist lands nowhere: creating it will fail and
        // the caller reports that.
        let Some(land) = landing(p) else { continue };
        if let Some((other_opt, other_path, _)) = seen.iter().find(|o| o.2 == land) {
            return Err(format!(
                "{opt} {} and {other_opt} {} are the same file; give each output its own file",
                p.display(),
                other_path.display()
            ));
        }
        seen.push((opt, p, land));
    }
    Ok(())
}

/// Refuse an output directory that exists but is not a directory.
pub fn check_output_dir(option: &str, dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(format!(
            "{option} {} exists and is not a directory",
            dir.display()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, "N,1,1,S,L,100,5\n").unwrap();
        p
    }

    #[test]
    fn same_path_is_refused_and_names_both_options() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "x.txt");
        let e = refuse_overwriting_inputs(&[("--events", &x)], &[("--input", &x)]).unwrap_err();
        assert!(e.contains("--events") && e.contains("--input"), "{e}");
        assert!(e.contains("refusing to overwrite an input"), "{e}");
    }

    #[test]
    fn other_spellings_symlinks_and_hard_links_are_the_same_file() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "x.txt");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let dotted = d.path().join("sub/../x.txt");
        let sym = d.path().join("link.txt");
        std::os::unix::fs::symlink(&x, &sym).unwrap();
        let hard = d.path().join("hard.txt");
        std::fs::hard_link(&x, &hard).unwrap();
        for out in [&dotted, &sym, &hard] {
            assert!(
                refuse_overwriting_inputs(&[("--events", out)], &[("--input", &x)]).is_err(),
                "{}",
                out.display()
            );
            // And the other way round: the input given through the alias.
            assert!(
                refuse_overwriting_inputs(&[("--events", &x)], &[("--input", out)]).is_err(),
                "{}",
                out.display()
            );
        }
    }

    #[test]
    fn distinct_and_new_files_pass() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "x.txt");
        let y = file(d.path(), "y.txt"); // same contents, different file
        let new = d.path().join("new.txt");
        let missing_input = d.path().join("missing.txt");
        refuse_overwriting_inputs(
            &[("--events", &y), ("--book-out", &new)],
            &[("--input", &x), ("--other", &missing_input)],
        )
        .unwrap();
        assert!(!new.exists(), "the check must not create anything");
    }

    #[test]
    fn devices_are_not_files_to_protect() {
        let null = Path::new("/dev/null");
        refuse_overwriting_inputs(
            &[("--events", null), ("--book-out", null)],
            &[("--input", null)],
        )
        .unwrap();
    }

    #[test]
    fn an_output_that_is_a_directory_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = refuse_overwriting_inputs(&[("--book-out", d.path())], &[]).unwrap_err();
        assert!(
            e.contains("--book-out") && e.contains("is a directory"),
            "{e}"
        );
    }

    #[test]
    fn two_outputs_naming_one_file_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "x.txt");
        let sym = d.path().join("link.txt");
        std::os::unix::fs::symlink(&x, &sym).unwrap();
        let e =
            refuse_overwriting_inputs(&[("--events", &x), ("--book-out", &sym)], &[]).unwrap_err();
        assert!(e.contains("--events") && e.contains("--book-out"), "{e}");
        // Also when neither exists yet, spelled differently.
        let new = d.path().join("new.txt");
        let new_dotted = d.path().join("sub/../new.txt");
        std::fs::create_dir(d.path().join("sub")).unwrap();
        assert!(
            refuse_overwriting_inputs(&[("--events", &new), ("--book-out", &new_dotted)], &[])
                .is_err()
        );
        assert!(!new.exists());
    }

    #[test]
    fn output_dir_must_be_a_directory_when_it_exists() {
        let d = tempfile::tempdir().unwrap();
        let x = file(d.path(), "x.txt");
        check_output_dir("--out", d.path()).unwrap();
        check_output_dir("--out", &d.path().join("not-yet")).unwrap();
        let e = check_output_dir("--out", &x).unwrap_err();
        assert!(e.contains("--out") && e.contains("not a directory"), "{e}");
    }
}
