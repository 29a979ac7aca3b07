"""The baseline of the tracking benchmark: a FastAPI endpoint that reads the body and answers 204, nothing else."""

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.post("/t")
async def track(request: Request):
    await request.body()
    return Response(status_code=204)
