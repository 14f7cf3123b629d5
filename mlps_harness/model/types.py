"""Field types shared by the models: strict, finite, range-checked numbers and lenient containers.

The bounds are sanity limits, not rules: a value outside them cannot come from a real run (a percentage above 100,
a negative count, 10**400 accelerators, a throughput of 1e308), so the loader refuses it with a finding naming the
file and the field instead of letting a rule compare it.
"""

from typing import Annotated

from pydantic import AllowInfNan, Field, Strict

#: A JSON number that must really be a number (not a string) and finite (not NaN or infinity).
Num = Annotated[float, Strict(), AllowInfNan(False)]
#: A JSON integer (no strings, no floats).
Int = Annotated[int, Strict()]
#: A JSON string.
Str = Annotated[str, Strict()]

#: Largest count we accept (accelerators, hosts, files, epochs, ranks): far above any real system.
MAX_COUNT = 10 ** 9
#: Largest rate, size or duration we accept (samples/s, MB/s, GB, seconds): far above any real system.
MAX_MAGNITUDE = 1e15

#: A percentage in [0, 100].
Percent = Annotated[float, Strict(), AllowInfNan(False), Field(ge=0, le=100)]
#: A non-negative whole count within sane bounds.
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT)]
#: A finite, non-negative measure (a rate, a size, a duration) within sane bounds.
Measure = Annotated[float, Strict(), AllowInfNan(False), Field(ge=0, le=MAX_MAGNITUDE)]

#: Lenient versions for Hydra's config.yaml, where overrides arrive as strings ("56"): coerced, then range-checked.
LenientCount = Annotated[int, Field(ge=0, le=MAX_COUNT)]
LenientMeasure = Annotated[float, AllowInfNan(False), Field(ge=0, le=MAX_MAGNITUDE)]
