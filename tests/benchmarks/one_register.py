"""The reference of the registration figures: ONE-api's `RegistrationClient` in a fresh interpreter.

Run as a script (`python one_register.py URL CACHE_DIR SESSION...`), the way a rig script uses
ONE: `ONE(base_url, username, password, silent=True, cache_dir=...)` with ONE's own defaults for
everything else (its REST cache, its mode), then `register_session(path)` for each session. The
caller sets HOME to a scratch folder, so ONE's parameters (`~/.one`) start empty at each run.

`--hash-buffer BYTES` sets iblutil's md5 read buffer. By default ONE allocates 256 MiB per file
hashed (about 0.15 s each on this machine), which dominates on small files; the benchmark passes
1 MiB by default, as the project's tests do, so the reference is the faster ONE (the hashes are
the same); `figures.py --one-hash-buffer 0` keeps ONE's own.
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description="register sessions with ONE-api")
    parser.add_argument("url")
    parser.add_argument("cache_dir")
    parser.add_argument("sessions", nargs="+")
    parser.add_argument("--username", default="test_user")
    parser.add_argument("--password", default="TapetesBloc18")
    parser.add_argument("--hash-buffer", type=int, default=0, help="0: ONE's own (256 MiB)")
    args = parser.parse_args()
    if args.hash_buffer:
        import iblutil.io.hashfile  # type: ignore[import-untyped]

        iblutil.io.hashfile.BUF_SIZE = args.hash_buffer
    from one.api import ONE
    from one.registration import RegistrationClient

    one = ONE(
        base_url=args.url,
        username=args.username,
        password=args.password,
        silent=True,
        cache_dir=args.cache_dir,
    )
    client = RegistrationClient(one)
    files = 0
    for session in args.sessions:
        _, records = client.register_session(session)
        files += len(records or [])
    print(f"registered {len(args.sessions)} sessions, {files} files")


if __name__ == "__main__":
    main()
