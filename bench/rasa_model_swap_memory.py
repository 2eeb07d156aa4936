"""Does Rasa's `PUT /model` grow the server's memory at every swap (RasaHQ/rasa#11284)?

    .venv/bin/python -m bench.rasa_model_swap_memory nlu/models/<model>.tar.gz [swaps]

Starts a server, swaps the same model in N times and prints its RSS after each
swap. Run by hand; the figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx

from bench.load import rss_mb
from nlu.server import LocalRasaServer
from tests.conftest import free_port


async def main(model: Path, swaps: int) -> None:
    server = LocalRasaServer(model, free_port(), Path("/tmp/rasa-swap.log"))
    server.start()
    try:
        await server.wait_until_ready(240)
        assert server._process is not None
        pid = server._process.pid
        print(f"after start: {rss_mb(pid):.0f} MB")
        async with httpx.AsyncClient(timeout=300) as client:
            for n in range(1, swaps + 1):
                response = await client.put(
                    f"{server.url}/model",
                    params={"token": server.auth_token},
                    json={"model_file": str(model.resolve())},
                )
                response.raise_for_status()
                await client.post(
                    f"{server.url}/model/parse",
                    params={"token": server.auth_token},
                    json={"text": "hola"},
                )
                print(f"after swap {n}: {rss_mb(pid):.0f} MB")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 5))
