"""`python -m bot.devtools.services_up PG_URL REDIS_URL`: exit 0 when both answer (used by make test)."""

from __future__ import annotations

import asyncio
import sys


async def _check(pg_url: str, redis_url: str) -> bool:
    try:
        import asyncpg
        from redis.asyncio import Redis

        conn = await asyncio.wait_for(asyncpg.connect(pg_url.replace("postgres://", "postgresql://")), 5)
        await conn.close()
        redis = Redis.from_url(redis_url)
        try:
            await asyncio.wait_for(redis.ping(), 5)
        finally:
            await redis.aclose()
        return True
    except Exception as exc:
        print(f"service check: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(_check(sys.argv[1], sys.argv[2])) else 1)
