"""Routes of identity's role assignments (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
