"""Project hooks (registered in ``settings.py``)."""

import os

from kedro.framework.hooks import hook_impl

# Environments that track to a remote MLflow server given by the environment.
REMOTE_TRACKING_ENVS = ("gcp",)


class RequireTrackingUriHook:
    """Refuse to start a ``gcp`` session without ``MLFLOW_TRACKING_URI``.

    conf/gcp/mlflow.yml leaves the tracking URI to the environment; unset, MLflow 3 falls back
    to a local file store and the run fails later with an unrelated-looking message (or logs
    into the container's disk, which Vertex AI throws away).
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        if (
            context.env in REMOTE_TRACKING_ENVS
            and not os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        ):
            raise RuntimeError(
                f"The '{context.env}' environment logs to a remote MLflow server, but "
                "MLFLOW_TRACKING_URI is not set. Export it (e.g. "
                "MLFLOW_TRACKING_URI=https://mlflow.example.com) or bake it into the image "
                "(Dockerfile build arg MLFLOW_TRACKING_URI); use --env=local to track to the "
                "local sqlite file instead."
            )
