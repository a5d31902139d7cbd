"""Inference traffic during a canary exercise: straight to each gateway, and through the front.

Direct requests show what a killed gateway's own clients see; requests through
the front (HAProxy, what clinical callers use, jurisdiction header set) show
whether callers noticed at all. Counts only: no rows or predictions are kept.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx


async def send(url: str, model: str, rows: list[list[float]], rate: float,
               counts: dict[str, int], stop: asyncio.Event,
               headers: dict[str, str] | None = None, timeout_s: float = 5.0,
               reasons: Counter[str] | None = None) -> None:
    """POST OIP v2 infer requests to ``url`` at ``rate``/s until ``stop``; count ok/failed,
    and in ``reasons`` why each failed (the HTTP status, or the client error's class).

    ``timeout_s`` is the caller's patience: through the front it must outlast the front's
    own server timeout, or the caller gives up before the front can retry elsewhere.
    """
    rnd = random.Random(url)
    interval, next_at = 1.0 / rate, time.monotonic()
    why: Counter[str] = reasons if reasons is not None else Counter()
    async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as http:
        while not stop.is_set():
            row = rows[rnd.randrange(len(rows))]
            body = {"inputs": [{"name": "features", "shape": [1, len(row)], "datatype": "FP32",
                                "data": row}]}
            try:
                r = await http.post(f"{url}/v2/models/{model}/infer", json=body)
                counts["ok" if r.status_code == 200 else "failed"] += 1
                if r.status_code != 200:
                    why[str(r.status_code)] += 1
            except httpx.HTTPError as e:
                counts["failed"] += 1
                why[type(e).__name__] += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
