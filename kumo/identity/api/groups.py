"""Routes of identity's groups (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
