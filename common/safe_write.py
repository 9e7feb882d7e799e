"""Writing output files safely: atomic, never clobbering without consent, following the umask.

Every file Zone writes for the user (edited photos, layers, masks, exports, replay images) goes
through `write_with` / `write_bytes`:

1. The target is checked first (`check_output`): an existing file is refused unless `force`; a
   FIFO, device, socket or directory is always refused; the folder must exist and accept a file.
2. Stale temporary files of earlier, killed writes (`.zone-tmp-<pid>-*` whose process is gone) are
   swept from the folder.
3. The data goes to `.zone-tmp-<pid>-<random>` in the same folder, is flushed and fsynced, gets
   the mode `cp` would give it (0666 minus the umask, or the old file's mode when overwriting),
   and is then moved into place: `link` (fails if the name was taken meanwhile) without `force`,
   `rename` with it. A file with other hard links is rewritten in place after the temporary copy
   is complete, so the links keep seeing the new content (as `cp` does).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Mapping, Union

from common.errors import UserFacingError

PathLike = Union[str, os.PathLike]
TEMP_PREFIX = ".zone-tmp-"
STALE_UNKNOWN_S = 3600.0  # a temp file whose owner cannot be told is swept after an hour
FORCE_HINT = "add --force to overwrite it"
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_UMASK_LOCK = threading.Lock()


class OutputError(UserFacingError):
    """An output file cannot or may not be written; the message is one line for the user (kind "storage").

    Args:
        message: the explanation.
        path: the file concerned.
    """

    kind = "storage"

    def __init__(self, message: str, path: PathLike | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class OutputExistsError(OutputError):
    """The output file exists and overwriting it was not allowed (no --force, no confirmation)."""


class OutsideFolderError(OutputError):
    """A path leads outside the folder writes are confined to (absolute, `..`, `~`, a symlink)."""


class OutputNoSpaceError(OutputError):
    """The disk (or the file size limit) is full; nothing was replaced."""


def current_umask() -> int:
    """Return the process umask (read by setting and restoring it, under a lock)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode of a newly created file: 0666 minus the umask, as `cp` and shells create them."""
    return 0o666 & ~current_umask()


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def _free_mb(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 1e6:.0f} MB free"
    except OSError:
        return "free space unknown"


def _os_error(exc: OSError, path: Path) -> OutputError:
    """Turn an OSError into the one-line OutputError the user sees."""
    if exc.errno in _NO_SPACE:
        return OutputNoSpaceError(f"no space left to write {path} ({_free_mb(_folder_of(path))})", path)
    return OutputError(f"cannot write {path}: {exc.strerror or exc}", path)


def _resolve_target(path: PathLike) -> Path:
    """Return the file a write to `path` lands in: `~` expanded, symlinks followed (as `cp` does)."""
    p = Path(os.fspath(path)).expanduser()
    if p.is_symlink():
        return Path(os.path.realpath(p))
    return p


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def check_output(path: PathLike, *, force: bool = False, hint: str = FORCE_HINT) -> Path:
    """Check, before any work, that `path` may be written; return the file that will be written.

    Args:
        path: the output file the user named.
        force: allow replacing an existing regular file.
        hint: what the refusal of an existing file tells the user to do.
    Raises:
        OutputExistsError: the file exists and `force` is False.
        OutputError: a directory, FIFO, device or socket; a missing or unwritable folder.
    """
    if "\x00" in os.fspath(path):
        raise OutputError(f"cannot write {os.fspath(path)!r}: a file name cannot contain a NUL character", None)
    target = _resolve_target(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _os_error(exc, target) from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"cannot write {path}: it is {_kind(st.st_mode)}; Zone only replaces regular files", path)
        if not force:
            raise OutputExistsError(f"{path} exists; {hint}", path)
    folder = _folder_of(target)
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist", path)
    probe_folder(folder, what=str(path))
    return target


def probe_folder(folder: PathLike, *, what: str | None = None) -> Path:
    """Raise OutputError unless a file can be created in `folder` (a real try, then removed)."""
    folder = Path(folder)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {what or folder}: folder {folder}: {exc.strerror or exc}", folder) from None
    os.close(fd)
    os.unlink(tmp)
    return folder


def inside(folder: PathLike, path: PathLike, *, hint: str = "") -> Path:
    """Return `path` (relative ones taken from `folder`) if it stays inside `folder`, else refuse.

    Symlinks are followed as far as the path exists, so a link leading out is refused too;
    `~` is never expanded.

    Args:
        folder: the only folder writes may go to (or below).
        path: what a script asked for.
        hint: appended to the refusal, e.g. how to lift the rule.
    Raises:
        OutsideFolderError: the path is absolute outside `folder`, climbs out with `..`, starts
            with `~`, or passes through a symlink that leads out.
    """
    text = os.fspath(path)
    root = Path(folder)
    candidate = Path(text) if os.path.isabs(text) else root / text
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(candidate))
    if text.strip().startswith("~") or (real != real_root and real_root not in real.parents):
        extra = f" ({hint})" if hint else ""
        raise OutsideFolderError(f"refused to write {text}: it is outside {folder}{extra}", text)
    return candidate


def check_distinct(outputs: Mapping[str, PathLike | None]) -> None:
    """Refuse two outputs of one command that name the same file.

    Args:
        outputs: {option name: path or None}, e.g. {"--out": "x.png", "--mask-out": "x.png"}.
    """
    seen: dict[str, str] = {}
    for label, path in outputs.items():
        if path is None:
            continue
        key = os.path.normcase(os.path.realpath(os.path.expanduser(os.fspath(path))))
        if key in seen:
            raise OutputError(f"{seen[key]} and {label} both name {path}; give each output its own file", path)
        seen[key] = label


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether `a` and `b` are the same file (or, when either is missing, the same real path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(os.fspath(a)) == os.path.realpath(os.fspath(b))


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: PathLike) -> list[Path]:
    """Remove `.zone-tmp-*` files left in `folder` by writes that were killed; return them.

    A temp file is stale when the process in its name is gone (or, when the name cannot be read,
    when it is over an hour old). Temp files of live processes are in-flight writes and are kept.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            pid_text = entry.name[len(TEMP_PREFIX):].split("-", 1)[0]
            stale = (not _pid_alive(int(pid_text))) if pid_text.isdigit() else (
                now - entry.stat(follow_symlinks=False).st_mtime > STALE_UNKNOWN_S)
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _rewrite_in_place(tmp: str, target: Path) -> None:
    """Copy the finished temp file over `target` in place (keeps its inode and hard links)."""
    with open(tmp, "rb") as src, open(target, "r+b") as dst:
        dst.truncate(0)
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())


def write_with(path: PathLike, fill: Callable[[BinaryIO], None], *, force: bool = False,
               hint: str = FORCE_HINT) -> Path:
    """Write a file by calling `fill(fh)` on a temp file, then moving it into place atomically.

    Args:
        path: the output file.
        fill: writes the content to the binary file object it is given.
        force: allow replacing an existing regular file.
        hint: what the refusal of an existing file tells the user to do.
    Returns:
        The path as given (`~` expanded).
    Raises:
        OutputExistsError, OutputNoSpaceError, OutputError: see `check_output`; nothing existing
            is changed when any of them is raised.
    """
    shown = Path(os.fspath(path)).expanduser()
    target = check_output(path, force=force, hint=hint)
    folder = _folder_of(target)
    sweep_stale(folder)
    old = os.stat(target) if force and target.exists() else None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fchmod(fh.fileno(), stat.S_IMODE(old.st_mode) if old is not None else new_file_mode())
            os.fsync(fh.fileno())
        if old is not None and old.st_nlink > 1:
            _rewrite_in_place(tmp, target)
        elif force:
            os.replace(tmp, target)
            tmp = None
        else:
            _link_new(tmp, target, path, hint)
        _fsync_folder(folder)
    except OSError as exc:
        raise _os_error(exc, shown) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return shown


def _link_new(tmp: str, target: Path, shown: PathLike, hint: str) -> None:
    """Give the temp file its final name without replacing a file created meanwhile."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExistsError(f"{shown} exists; {hint}", shown) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if target.exists():  # a file system without hard links: check, then rename
            raise OutputExistsError(f"{shown} exists; {hint}", shown) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: PathLike, data: bytes, *, force: bool = False, hint: str = FORCE_HINT) -> Path:
    """Write `data` to `path` atomically (see `write_with`)."""
    return write_with(path, lambda fh: fh.write(data), force=force, hint=hint)


def make_private_dir(folder: PathLike) -> Path:
    """Create `folder` (and missing parents) with mode 0700 where Zone creates it; return it."""
    folder = Path(folder)
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    return folder


def stale_temps(folder: PathLike) -> Iterable[Path]:
    """The `.zone-tmp-*` files now in `folder` (for tests and diagnostics)."""
    return sorted(Path(folder).glob(f"{TEMP_PREFIX}*"))
