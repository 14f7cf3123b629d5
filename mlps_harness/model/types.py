"""Field types shared by the models: strict, finite numbers and lenient containers."""

from typing import Annotated

from pydantic import AllowInfNan, Strict

#: A JSON number that must really be a number (not a string) and finite (not NaN or infinity).
Num = Annotated[float, Strict(), AllowInfNan(False)]
#: A JSON integer (no strings, no floats).
Int = Annotated[int, Strict()]
#: A JSON string.
Str = Annotated[str, Strict()]
