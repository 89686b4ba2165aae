# clinx-serve runtime image: the FastAPI server + ONNX Runtime, no torch, no transformers, no compilers.
#
#   GPU (default):  docker build -t clinx-serve:gpu .
#   CPU:            docker build -t clinx-serve:cpu --build-arg FLAVOUR=cpu --build-arg BASE_IMAGE=ubuntu:24.04 .
#   baked bundle:   docker build -t clinx-serve:gpu-demo --build-arg BUNDLE_DIR=bundles/demo .
#   no Docker:      ../shared/tools/container-build.sh (buildah), see deploy/README.md; the CPU flavour is
#                   built from a copy with only the `ARG FLAVOUR=gpu` line changed to cpu.
#
# BASE_IMAGE: any Debian/Ubuntu image. Python 3 (+ venv) is installed with apt only when the base lacks it,
# so a base that already ships python3, python3-venv and ca-certificates needs no package index at all.
# FLAVOUR=gpu installs the `gpu` extra (onnxruntime-gpu, using the base image's CUDA 13 + cuDNN 9; the
# CUDA runtime base is kept as a safety net for the driver-facing libraries), FLAVOUR=cpu the `serve` extra.
# BUNDLE_DIR: optional path inside the build context (e.g. bundles/<name> or models/demo; see .dockerignore)
# whose contents are copied to /models/clinx. Left empty, a placeholder holding only `.keep` is copied, and
# the bundle comes from a volume mounted at /models (what deploy/ does).
ARG BASE_IMAGE=nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04
FROM ${BASE_IMAGE}

ARG FLAVOUR=gpu
ARG BUNDLE_DIR=""

LABEL org.opencontainers.image.title="clinx-serve" \
      org.opencontainers.image.description="Clinical concept extraction server (FastAPI + ONNX Runtime)"

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Python runtime (only when the base image lacks it), the virtual environment, and the unprivileged user.
RUN set -eux; \
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then \
        apt-get update; \
        apt-get install -y --no-install-recommends python3 python3-venv ca-certificates; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    python3 -m venv /opt/venv; \
    groupadd --gid 10001 clinx; \
    useradd --uid 10001 --gid 10001 --create-home --home-dir /home/clinx --shell /usr/sbin/nologin clinx

ENV PATH=/opt/venv/bin:${PATH}

# The distribution: metadata first, then the packages (model_export is part of the same distribution; its
# heavy training dependencies live in other extras and are not installed here).
COPY pyproject.toml README.md LICENSE /opt/clinx-src/
COPY app/ /opt/clinx-src/app/
COPY model_export/ /opt/clinx-src/model_export/
COPY clinx_cli/ /opt/clinx-src/clinx_cli/
COPY deploy/docker/check_image.py /opt/clinx-src/check_image.py

RUN set -eux; \
    case "${FLAVOUR}" in \
        gpu) extra=gpu ;; \
        cpu) extra=serve ;; \
        *) echo "FLAVOUR must be gpu or cpu, got '${FLAVOUR}'" >&2; exit 1 ;; \
    esac; \
    pip install --no-cache-dir "/opt/clinx-src[${extra}]"; \
    python3 -I /opt/clinx-src/check_image.py "${FLAVOUR}"; \
    rm -rf /opt/clinx-src

# Optional baked-in bundle (root-owned, world-readable: the server only reads it).
COPY ${BUNDLE_DIR:-deploy/docker/no-bundle} /models/clinx/

ENV CLINX_HOST=0.0.0.0 \
    CLINX_PORT=8000 \
    CLINX_BUNDLE=/models/clinx \
    CLINX_DEVICE=auto \
    CLINX_VARIANT=auto

WORKDIR /home/clinx
USER 10001:10001
EXPOSE 8000

# Docker/Podman only (Kubernetes uses the probes in deploy/); no curl in the image, so urllib it is.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CLINX_PORT', '8000') + '/health/live', timeout=4)"]

CMD ["clinx", "serve"]
