"""One unit of work (one transaction) for the layers above services, which never see storage."""

from bot.storage.db import unit_of_work

__all__ = ["unit_of_work"]
