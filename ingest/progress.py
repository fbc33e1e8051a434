"""Progress that suits its output: a live tqdm bar on a terminal, a few plain lines in a log."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Counts finished items. On a terminal: tqdm's live bar. Elsewhere (CI logs, a pipe, a file): one plain
    line, in tqdm's format, each time another `1/steps` of the total is done, and one at the end."""

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "it",
        stream: TextIO | None = None,
        enabled: bool = True,
        steps: int = 10,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and total > 0
        self.steps = max(1, steps)
        self.n = 0
        self._start = time.monotonic()
        self._step = 0
        self._printed = 0
        self.live = self.enabled and _is_terminal(self.stream)
        self._bar = (
            tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=False, dynamic_ncols=True)
            if self.live
            else None
        )

    def set_postfix_str(self, text: str) -> None:
        """What is being worked on (shown on the live bar only: a log line would repeat it for every file)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def update(self, n: int = 1) -> None:
        """`n` more items are done."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled:
            step = self.n * self.steps // self.total
            if step > self._step or self.n >= self.total:
                self._step = step
                self._line()

    def _line(self) -> None:
        meter = tqdm.format_meter(
            self.n, self.total, time.monotonic() - self._start, prefix=self.desc, unit=self.unit, ascii=True, ncols=80
        )
        self._printed = self.n
        self.stream.write(meter + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar (a log gets a last line with the final count, if not yet written)."""
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self.n != self._printed:
            self._line()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        return False
