"""Settings of the scale benchmark: production settings with one workaround.

``static/vendor/chartjs/chart.umd.min.js`` ends with a ``sourceMappingURL``
comment naming ``chart.umd.min.js.map``, which is not shipped, so the hashed
manifest storage of production (``CompressedManifestStaticFilesStorage``)
refuses ``collectstatic``. Until the file is fixed, the benchmark serves the
same static files compressed but unhashed; nothing else differs.
"""

from voterreg.settings import *  # noqa: F403
from voterreg.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}
