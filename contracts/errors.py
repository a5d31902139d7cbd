"""Domain error types and the exception tree.

Activities raise these; the activity boundary (``activities.boundary``)
translates them into ``ApplicationError(message, type=ErrorType.X,
non_retryable=...)`` so that workflows decide on failover and retries by
*type*, never by parsing messages.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorType(StrEnum):
    """Stable error type names carried in Temporal ``ApplicationError.type``."""

    INVALID_INPUT = "InvalidInput"
    INVALID_MODEL = "InvalidModel"
    DATASET_MISMATCH = "DatasetMismatch"
    NOT_FOUND = "NotFound"
    ALREADY_EXISTS = "AlreadyExists"
    ACCESS_DENIED = "AccessDenied"
    INTEGRITY = "IntegrityError"
    PROVIDER_UNAVAILABLE = "ProviderUnavailable"
    ACCELERATOR_UNAVAILABLE = "AcceleratorUnavailable"
    INPUT_UNAVAILABLE = "InputUnavailable"
    KEY_ERROR = "KeyError"
    KEY_UNAVAILABLE = "KeyUnavailable"
    RESIDENCY_VIOLATION = "ResidencyViolation"
    TLS_ERROR = "TLSError"
    IDENTIFIERS_FOUND = "IdentifiersFound"
    VALIDATION_FAILED = "ValidationFailed"
    MODEL_GATE_FAILED = "ModelGateFailed"
    SIGNATURE_INVALID = "SignatureInvalid"
    LEDGER_TAMPERED = "LedgerTampered"
    DEPLOY_FAILED = "DeployFailed"
    ROLLED_BACK = "RolledBack"
    APPROVAL_REFUSED = "ApprovalRefused"
    TRANSIENT = "Transient"


#: Error types on which a workflow moves a step to the next candidate worker
#: instead of failing the release.
FAILOVER_ERROR_TYPES: frozenset[str] = frozenset(
    {ErrorType.PROVIDER_UNAVAILABLE, ErrorType.ACCELERATOR_UNAVAILABLE}
)


class MedpipeError(Exception):
    """Base of every domain error.

    Attributes:
        error_type: the ``ErrorType`` carried across the activity boundary.
        retryable: whether retrying the same step on the same worker may help.
    """

    error_type: ErrorType = ErrorType.INVALID_INPUT
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(MedpipeError):
    """A request, file or argument is malformed; retrying cannot help."""

    error_type = ErrorType.INVALID_INPUT


class InvalidModel(MedpipeError):
    """The model file is not a loadable ONNX model."""

    error_type = ErrorType.INVALID_MODEL


class DatasetMismatch(MedpipeError):
    """The dataset does not provide what the model's input needs."""

    error_type = ErrorType.DATASET_MISMATCH


class NotFound(MedpipeError):
    """An object, bucket or key does not exist."""

    error_type = ErrorType.NOT_FOUND


class AlreadyExists(MedpipeError):
    """A write-once object exists with different content."""

    error_type = ErrorType.ALREADY_EXISTS


class AccessDenied(MedpipeError):
    """Credentials were refused by a provider."""

    error_type = ErrorType.ACCESS_DENIED


class IntegrityError(MedpipeError):
    """Content does not match its digest, tag or signature."""

    error_type = ErrorType.INTEGRITY


class ProviderUnavailable(MedpipeError):
    """A cloud provider (storage, KMS) does not answer: fail over elsewhere."""

    error_type = ErrorType.PROVIDER_UNAVAILABLE


class AcceleratorUnavailable(MedpipeError):
    """The accelerator a step was placed for is missing or failed."""

    error_type = ErrorType.ACCELERATOR_UNAVAILABLE


class InputUnavailable(MedpipeError):
    """A step's input sits in a store that does not answer.

    No other worker can read it either, so the workflow does not fail over
    the step: it re-ingests the inputs onto another compliant cloud first.

    Attributes:
        bucket_uri: the store that did not answer.
    """

    error_type = ErrorType.INPUT_UNAVAILABLE

    def __init__(self, message: str, bucket_uri: str) -> None:
        super().__init__(message)
        self.bucket_uri = bucket_uri


class KeyProviderError(MedpipeError):
    """A key is wrong, unknown, disabled or destroyed."""

    error_type = ErrorType.KEY_ERROR


class KeyUnavailable(MedpipeError):
    """The key service does not answer (retryable: the service may return)."""

    error_type = ErrorType.KEY_UNAVAILABLE
    retryable = True


class ResidencyViolation(MedpipeError):
    """A step would move identifiable data outside the allowed jurisdictions."""

    error_type = ErrorType.RESIDENCY_VIOLATION


class TLSError(MedpipeError):
    """A TLS handshake was refused; the message says which side and why."""

    error_type = ErrorType.TLS_ERROR


class IdentifiersFound(MedpipeError):
    """Residual patient identifiers were found in data that must be free of them."""

    error_type = ErrorType.IDENTIFIERS_FOUND


class ValidationFailed(MedpipeError):
    """Data expectations failed."""

    error_type = ErrorType.VALIDATION_FAILED


class ModelGateFailed(MedpipeError):
    """Model metrics are below thresholds or regress against the model in service."""

    error_type = ErrorType.MODEL_GATE_FAILED


class SignatureInvalid(MedpipeError):
    """A signature or digest did not verify; the message says which check failed."""

    error_type = ErrorType.SIGNATURE_INVALID


class ApprovalRefused(MedpipeError):
    """An action needing signed approvals has too few valid ones; says who, which role, why."""

    error_type = ErrorType.APPROVAL_REFUSED


class LedgerTampered(MedpipeError):
    """The provenance ledger chain is broken."""

    error_type = ErrorType.LEDGER_TAMPERED


class DeployFailed(MedpipeError):
    """An inference gateway refused or failed an operation."""

    error_type = ErrorType.DEPLOY_FAILED


class Transient(MedpipeError):
    """A passing fault: the same step on the same worker may succeed."""

    error_type = ErrorType.TRANSIENT
    retryable = True
