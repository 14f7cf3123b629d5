"""Object storage (S3 API) for checkpoint shards: the workload's `--storage object` mode.

A shard is one object `<prefix>/checkpoint_<n>/rank_<r>.{model,optimizer}.bin` in `--s3-bucket` at
`--s3-endpoint` (any S3-compatible server; credentials from the usual AWS environment variables or files). Writes
stream the same reusable, stamped buffer as file mode: one PUT for a shard up to one part, else a multipart upload
of `max(transfer size, 5 MiB)` parts. Reads stream the object back into the buffer and check its length. There is
no page cache to drop in front of an object store, and nothing to fsync: a completed PUT is durable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .sizing import CheckpointUsageError

if TYPE_CHECKING:
    from .storage_io import TransferBuffer

MIN_PART_BYTES = 5 * 1024 ** 2      #: the S3 API's smallest part of a multipart upload (all but the last)
MAX_PARTS = 10_000


def _client(endpoint: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise CheckpointUsageError("--storage", "object mode needs boto3, which is not installed; install it "
                                                "with: pip install boto3 (or bash scripts/setup.sh)") from None
    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=10, read_timeout=120)
    return boto3.client("s3", endpoint_url=endpoint or None, config=config)


def relative_key(path) -> str:
    """A shard path below the checkpoint folder as the key suffix (`checkpoint_1/rank_0.model.bin`)."""
    return f"{path.parent.name}/{path.name}"


def open_store(options) -> "ObjectStore | None":
    """The object store of `options` in object mode (bucket checked), else None."""
    if options.storage != "object":
        return None
    if not options.s3_bucket:
        raise CheckpointUsageError("--s3-bucket", "object mode needs a bucket; pass --s3-bucket NAME")
    store = ObjectStore(options.s3_bucket, options.s3_endpoint, options.object_prefix)
    store.check()
    return store


class ObjectStore:
    """The bucket and key prefix shards go to."""

    def __init__(self, bucket: str, endpoint: str | None, prefix: str) -> None:
        self.bucket, self.endpoint, self.prefix = bucket, endpoint, prefix.strip("/")
        self.client = _client(endpoint)

    def key(self, relative: str) -> str:
        """The object key of a shard path relative to the checkpoint folder (`checkpoint_1/rank_0.model.bin`)."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def check(self) -> None:
        """The bucket exists and answers; a usage error naming the option otherwise."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "?")
            raise CheckpointUsageError("--s3-bucket", f"bucket {self.bucket!r} at {self.endpoint or 'AWS'} answered "
                                                      f"{code}; create it or fix the name and credentials") from None
        except BotoCoreError as error:
            raise CheckpointUsageError("--s3-endpoint", f"cannot reach {self.endpoint or 'AWS'}: {error}") from None

    def write(self, key: str, size: int, buffer: "TransferBuffer", transfer_size: int, checkpoint_index: int) -> int:
        """Upload `size` bytes of stamped buffer blocks to `key`; return the bytes written."""
        part = max(transfer_size, MIN_PART_BYTES, -(-size // MAX_PARTS))
        if size <= part:
            length = min(size, buffer.size)
            body = bytearray()
            block = 0
            while len(body) < size:
                buffer.stamp(checkpoint_index, block)
                body += buffer.view[:min(length, size - len(body))]
                block += 1
            self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(body))
            return size
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts, sent, block = [], 0, 0
            while sent < size:
                want = min(part, size - sent)
                body = bytearray()
                while len(body) < want:
                    buffer.stamp(checkpoint_index, block)
                    body += buffer.view[:min(buffer.size, want - len(body))]
                    block += 1
                number = len(parts) + 1
                answer = self.client.upload_part(Bucket=self.bucket, Key=key, PartNumber=number, UploadId=upload,
                                                 Body=bytes(body))
                parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                sent += want
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise
        return size

    def read(self, key: str, expected_size: int, buffer: "TransferBuffer", transfer_size: int) -> int:
        """Stream `key` into the buffer in `transfer_size` pieces; fail unless it holds `expected_size` bytes."""
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        total = 0
        try:
            while True:
                chunk = body.read(min(transfer_size, buffer.size))
                if not chunk:
                    break
                buffer.view[:len(chunk)] = chunk
                total += len(chunk)
        finally:
            body.close()
        if total != expected_size:
            raise OSError(f"checkpoint object s3://{self.bucket}/{key} holds {total} bytes, expected {expected_size}")
        return total

    def size(self, key: str) -> int | None:
        """The object's size, or None when it does not exist."""
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except ClientError:
            return None

    def delete(self, keys: Iterable[str]) -> int:
        """Delete the objects that exist among `keys`; return the bytes freed."""
        freed = 0
        for key in keys:
            size = self.size(key)
            if size is not None:
                self.client.delete_object(Bucket=self.bucket, Key=key)
                freed += size
        return freed
