"""Routes of identity's catalog (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
