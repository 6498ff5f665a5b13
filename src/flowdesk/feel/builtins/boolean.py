"""Boolean function (DMN 1.5 table 71): not. (`all` and `any` live with the list functions.)"""

from __future__ import annotations

from typing import Any

from flowdesk.feel.builtins.base import boolean, builtin
from flowdesk.feel.runtime import Env


@builtin("not", "negand")
def not_(env: Env, negand: Any) -> bool:
    return not boolean("not", "negand", negand)
