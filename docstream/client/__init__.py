"""An async Python client for DocStream: REST calls and live documents.

async with DocStreamClient("http://127.0.0.1:8000") as client:
    await client.login("ann@example.com", "correct horse")
    doc = await client.create_document("Notes")
    async with client.open(doc["id"]) as live:
        live.insert(0, "Hello")
        await live.synced()
        print(live.text)
"""

from docstream.client.connection import DocStreamClient
from docstream.client.errors import ApiError
from docstream.client.live import LiveDocument

__all__ = ["ApiError", "DocStreamClient", "LiveDocument"]
