"""An upload into a hidden temporary object, renamed over the target on commit."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from irods import exception as ex

from davprovider.backend import Entry, Upload

from .errors import BROKEN, translated

if TYPE_CHECKING:
    from .backend import IrodsBackend

log = logging.getLogger("davprovider.irods")


class IrodsUpload(Upload):
    """Bytes stream into ``temp``; nothing shows at ``path`` until ``commit()``."""

    def __init__(
        self, backend: IrodsBackend, path: str, temp: str, handle: Any, size: int | None
    ) -> None:
        self.backend, self.path, self.temp = backend, path, temp
        self.handle: Any = handle
        self.size = size
        self.written = 0
        self.done = False

    @translated
    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.written += len(data)

    @translated
    def commit(self) -> Entry:
        if self.done:
            raise ValueError("upload already finished")
        if self.size is not None and self.written != self.size:
            self.abort()
            raise ValueError(f"body has {self.written} bytes, Content-Length said {self.size}")
        self.handle.close()
        self.handle = None
        session, target = self.backend.session, self.backend.irods_path(self.path)
        try:
            if self.backend._data_row(self.path) is not None:
                old = self.backend.get_meta(self.path)
                if old:
                    self.backend.apply_meta(session.data_objects.get(self.temp), old)
                session.data_objects.unlink(target, force=True)
            session.data_objects.move(self.temp, target)
        except BaseException:
            self.abort()
            raise
        self.done = True
        return self.backend.stat(self.path)

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        if self.handle is not None:
            try:
                self.handle.close()
            except (*BROKEN, ex.iRODSException, OSError) as exc:
                log.info("closing the upload of %s failed: %r", self.path, exc)
        failure: BaseException | None = None
        for _ in range(2):  # a broken connection gets one retry on a fresh session
            try:
                self.backend.session.data_objects.unlink(self.temp, force=True)
                return
            except BROKEN as exc:
                failure = exc
                self.backend.renew()
            except (ex.iRODSException, ex.PycommandsException, OSError) as exc:
                failure = exc
                break
        log.warning("could not remove temporary upload %s: %r", self.temp, failure)
