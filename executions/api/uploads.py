"""Uploaded input files: ``POST /files`` (multipart, field ``file``), ``GET /files``
(mine), ``GET /files/{id}`` (download; uploader or readers of an execution that used it)."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.models import UploadedFile
from executions.services import uploads


class UploadedFileSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = UploadedFile
        fields = ["id", "name", "size", "content_type", "sha256", "created_at"]


def _sentence(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:] + "."


def _error(code: str, message: str, http_status: int) -> Response:
    return Response({"error": code, "message": message}, status=http_status)


class FileListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
        responses={201: UploadedFileSerializer},
        description="Upload an input file (at most PRSM_UPLOAD_MAX_BYTES, 25 MiB by default). "
        "Name it in an execution's inputs by its id (file_…); pdf_to_text reads it.",
    )
    def post(self, request: Request) -> Response:
        limit = uploads.upload_max_bytes()
        declared = request.META.get("CONTENT_LENGTH") or ""
        # Refuse before reading a body far over the limit (multipart adds a little).
        if declared.isdigit() and int(declared) > limit + 64 * 1024:
            return _error(
                "file_too_large",
                f"The request is {declared} bytes; uploads may be at most {limit} bytes "
                "(PRSM_UPLOAD_MAX_BYTES).",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        upload = request.FILES.get("file")
        if upload is None:
            return _error(
                "missing_file",
                "Send the file as multipart/form-data in a field named 'file'.",
                status.HTTP_400_BAD_REQUEST,
            )
        try:
            record = uploads.uploaded_file_create(owner=request.user, upload=upload)
        except uploads.UploadRejected as exc:
            return _error(exc.code, exc.message, exc.status)
        except uploads.StorageUnavailable as exc:
            return _error(
                "storage_unavailable", _sentence(exc), status.HTTP_503_SERVICE_UNAVAILABLE
            )
        return Response(UploadedFileSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=UploadedFileSerializer(many=True), description="Your uploads.")
    def get(self, request: Request) -> Response:
        qs = UploadedFile.objects.filter(owner_id=request.user.pk)[:500]
        return Response(UploadedFileSerializer(qs, many=True).data)


class FileDetailView(APIView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        description="Download an uploaded file: its uploader, or whoever may read an "
        "execution that used it; anyone else gets 404.",
    )
    def get(self, request: Request, file_id: str) -> FileResponse | Response:
        record = uploads.uploaded_file_get(user=request.user, public_id=file_id)
        if record is None:
            return _error(
                "not_found",
                "Not found, or you do not have access to it.",
                status.HTTP_404_NOT_FOUND,
            )
        try:
            content = uploads.uploaded_file_open(record)
        except uploads.StorageUnavailable as exc:
            return _error(
                "storage_unavailable", _sentence(exc), status.HTTP_503_SERVICE_UNAVAILABLE
            )
        response = FileResponse(
            content,
            as_attachment=True,
            filename=record.name,
            content_type=record.content_type,
        )
        response["Cache-Control"] = "private, no-store"
        return response
