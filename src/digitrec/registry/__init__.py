"""The model registry: versions (verified copies of model directories), aliases, atomic promotion,
rollback."""

from digitrec.registry.names import check_name
from digitrec.registry.store import (DEFAULT_ALIAS, REGISTRY_ENV, Alias, NotInRegistry, Registry, Version,
                                     default_root)

__all__ = ["DEFAULT_ALIAS", "REGISTRY_ENV", "Alias", "NotInRegistry", "Registry", "Version", "check_name",
           "default_root"]
