"""Policy Helpdesk Assistant: grounded, cited answers over a regional-policy library."""

import os

# Offline by default: never let a library phone home (hub downloads, analytics, telemetry).
for _var, _val in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_var, _val)
