"""Counters and latency histograms, exposed at /metrics in Prometheus text format.

Kept in-process and dependency-free; each worker exposes its own figures.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._help: dict[str, str] = {}

    def describe(self, name: str, text: str) -> None:
        self._help[name] = text

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._histograms[name]
            # buckets..., +Inf count, sum
            values = series.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            values[bisect.bisect_left(BUCKETS, seconds)] += 1
            values[-1] += seconds

    def value(self, name: str, **labels: str) -> float:
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._counters.get(name, {}).get(key, 0.0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, series in sorted(self._counters.items()):
                lines.append(f"# HELP {name} {self._help.get(name, name)}")
                lines.append(f"# TYPE {name} counter")
                lines.extend(f"{name}{_labels(k)} {v:g}" for k, v in sorted(series.items()))
            for name, histograms in sorted(self._histograms.items()):
                lines.append(f"# HELP {name} {self._help.get(name, name)}")
                lines.append(f"# TYPE {name} histogram")
                for key, values in sorted(histograms.items()):
                    cumulative = 0.0
                    for bound, count in zip((*BUCKETS, float("inf")), values[:-1], strict=True):
                        cumulative += count
                        le = "+Inf" if bound == float("inf") else f"{bound:g}"
                        lines.append(f"{name}_bucket{_labels((*key, ('le', le)))} {cumulative:g}")
                    lines.append(f"{name}_count{_labels(key)} {cumulative:g}")
                    lines.append(f"{name}_sum{_labels(key)} {values[-1]:.6f}")
        return "\n".join(lines) + "\n"
