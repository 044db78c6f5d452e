"""The seed notebook's Azure ML calls, made with Microsoft's own SDK against the local stack.

The conformance suite (test/devstack/conformance/notebookFlow.stack.test.ts) runs this with the pinned
azure-ai-ml in .tools/conformance-venv/. It makes the notebook's SDK calls in the notebook's order
(docs/design.md, the steps): authenticate, the workspace and the `azureml` registry, the model and its
allow lists, the GPU cluster, the training data, the pipeline from the registry's component, submit and
stream, the metrics through MLflow, register, endpoint, deployment and traffic, invoke, delete.

It is pointed at the local stack only through what a user would set for a sovereign or private cloud:
the credential (a service principal whose authority is the stack's token endpoint), the cloud's endpoints
(ARM_CLOUD_METADATA_URL, read by azure-ai-ml; REGISTRY_DISCOVERY_ENDPOINT_URL, which ARM's metadata
document does not carry) and the CA bundle (REQUESTS_CA_BUNDLE); plus loopback answers for .localhost
names (RFC 6761), which this machine's resolver does not give (resolve_localhost_names below). The notebook's own mistakes stay mistakes: its default cluster size is not in the
model's allow list, and two of its training parameters are not pipeline inputs; each step asserts
Azure's answer to the mistake, then goes on with the corrected value.

Output: one JSON line per step on stdout ({"step", "ok", "seconds", "detail" or "error"}), then a summary
line {"summary": {"passed", "failed", "notReached"}}. Exit 0 when every step passed.

Environment: AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME, AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, FTFLOW_CONFORMANCE_CLOUD_URL (the emulator's base URL), and
REQUESTS_CA_BUNDLE; FTFLOW_CONFORMANCE_WORKDIR (a scratch folder for the data files).
"""

import ast
import contextlib
import json
import os
import sys
import time
import traceback
from typing import Any, Callable, Dict, List



def resolve_localhost_names() -> None:
    """RFC 6761, section 6.3: names under .localhost are loopback names, and resolvers should answer them
    with the loopback address. The cloud's storage suffix is `core.localhost:<port>`, so the SDKs build
    host-style blob URLs (devstoreaccount1.blob.core.localhost); glibc answers those only with
    systemd-resolved, so this process answers them itself, as a hosts-file entry would."""
    import socket

    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]


resolve_localhost_names()
CLOUD_URL = os.environ["FTFLOW_CONFORMANCE_CLOUD_URL"].rstrip("/")
os.environ.setdefault("ARM_CLOUD_METADATA_URL", f"{CLOUD_URL}/metadata/endpoints?api-version=2019-05-01")
os.environ.setdefault("REGISTRY_DISCOVERY_ENDPOINT_URL", f"{CLOUD_URL}/")

from azure.ai.ml import Input, MLClient  # noqa: E402  (after the cloud's environment is set)
from azure.ai.ml.constants import AssetTypes  # noqa: E402
from azure.ai.ml.dsl import pipeline  # noqa: E402
from azure.ai.ml.entities import (  # noqa: E402
    AmlCompute,
    ManagedOnlineDeployment,
    ManagedOnlineEndpoint,
    Model,
    OnlineRequestSettings,
    ProbeSettings,
)
from azure.core.exceptions import HttpResponseError  # noqa: E402
from azure.identity import ClientSecretCredential  # noqa: E402

MODEL_NAME = os.environ.get("FTFLOW_CONFORMANCE_MODEL", "Phi-3-mini-4k-instruct")
NOTEBOOK_CLUSTER_SIZE = "Standard_ND40rs_v2"  # the notebook's default: not in the model's allow list
CLUSTER_NAME = "gpu-cluster-conformance"
WORKDIR = os.environ.get("FTFLOW_CONFORMANCE_WORKDIR", os.getcwd())

state: Dict[str, Any] = {"timestamp": str(int(time.time()))}


class StepFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


def authenticate() -> str:
    credential = ClientSecretCredential(
        os.environ["AZURE_TENANT_ID"],
        os.environ["AZURE_CLIENT_ID"],
        os.environ["AZURE_CLIENT_SECRET"],
        authority=CLOUD_URL,
        disable_instance_discovery=True,
    )
    token = credential.get_token("https://management.azure.com/.default")
    expect(len(token.token) > 20, "no token")
    state["credential"] = credential
    return "token for https://management.azure.com"


def workspace_client() -> str:
    client = MLClient(
        state["credential"],
        subscription_id=os.environ["AZURE_SUBSCRIPTION_ID"],
        resource_group_name=os.environ["AZURE_RESOURCE_GROUP"],
        workspace_name=os.environ["AZUREML_WORKSPACE_NAME"],
    )
    workspace = client.workspaces.get(os.environ["AZUREML_WORKSPACE_NAME"])
    state["ws"] = client
    return f"workspace {workspace.name} in {workspace.location}"


def registry_client() -> str:
    state["registry"] = MLClient(state["credential"], registry_name="azureml")
    state["experiment_name"] = f"chat_completion_{MODEL_NAME}"
    return "registry azureml"


def foundation_model() -> str:
    model = state["registry"].models.get(MODEL_NAME, label="latest")
    state["model"] = model
    return f"{model.name} version {model.version}: {model.id}"


def finetune_allow_list() -> str:
    tags = state["model"].tags
    expect("finetune_compute_allow_list" in tags, "finetune_compute_allow_list is not among the model's tags")
    state["allow_list"] = ast.literal_eval(tags["finetune_compute_allow_list"])
    return f"allow list {state['allow_list']}"


def compute_cluster() -> str:
    ws: MLClient = state["ws"]
    # The notebook's default size is not in the allow list: Azure creates the cluster anyway (the check is
    # the notebook's own, in the next cell), so the suite asserts that check fails, then uses an allowed size.
    expect(
        NOTEBOOK_CLUSTER_SIZE.lower() not in [s.lower() for s in state["allow_list"]],
        f"{NOTEBOOK_CLUSTER_SIZE} is in the allow list: the notebook's mistake is gone",
    )
    size = state["allow_list"][0]
    try:
        ws.compute.get(CLUSTER_NAME)
    except Exception:  # noqa: BLE001 (the notebook's own pattern: create when get fails)
        ws.begin_create_or_update(AmlCompute(name=CLUSTER_NAME, size=size, max_instances=2)).result()
    compute = ws.compute.get(CLUSTER_NAME)
    expect(compute.provisioning_state.lower() != "failed", f"cluster {CLUSTER_NAME} failed to provision")
    expect(compute.size.lower() in [s.lower() for s in state["allow_list"]], f"{compute.size} not allowed")
    state["compute"] = compute
    return f"{compute.name}: {compute.size}, {compute.provisioning_state}"


def gpus_per_node() -> str:
    compute = state["compute"]
    sizes = list(state["ws"].compute.list_sizes())
    found = [s for s in sizes if s.name.lower() == compute.size.lower()]
    expect(len(found) == 1, f"{compute.size} is not among the workspace's {len(sizes)} sizes")
    state["gpus"] = found[0].gpus
    expect(state["gpus"] >= 1, f"{compute.size} has no GPU")
    return f"{compute.size}: {state['gpus']} GPUs"


def training_data() -> str:
    # The notebook downloads 5% of ultrachat_200k with the `datasets` library; the Azure calls start when
    # the pipeline uploads the files. Three conversations per split stand in for the download.
    folder = os.path.join(WORKDIR, "ultrachat_200k_dataset")
    os.makedirs(folder, exist_ok=True)
    for split in ("train_sft", "test_sft", "test_gen"):
        with open(os.path.join(folder, f"{split}.jsonl"), "w", encoding="utf-8") as f:
            for i in range(3):
                prompt = f"{split} question {i}: what is fine-tuning?"
                row = {
                    "prompt": prompt,
                    "prompt_id": f"{split}-{i}",
                    "messages": [
                        {"role": "user", "content": prompt},
                        {"role": "assistant", "content": "Adapting a trained model to a task with more data."},
                    ],
                }
                f.write(json.dumps(row) + "\n")
    state["data"] = folder
    return folder


def finetune_parameters() -> str:
    parameters: Dict[str, Any] = dict(
        num_train_epochs=3,
        per_device_train_batch_size=1,
        per_device_eval_batch_size=1,
        learning_rate=5e-6,
        lr_scheduler_type="cosine",
        apply_lora="true",
        apply_deepspeed="true",
        deepspeed_stage=2,
    )
    tags = state["model"].tags
    if "model_specific_defaults" in tags:
        parameters.update(ast.literal_eval(tags["model_specific_defaults"]))
    state["parameters"] = parameters
    return ", ".join(f"{k}={v}" for k, v in sorted(parameters.items()))


def display_name() -> str:
    # The notebook's get_pipeline_display_name: model, dataset, total batch size, scheduler, DeepSpeed,
    # LoRA, checkpoint limit and sequence length.
    p = state["parameters"]
    batch = int(p.get("per_device_train_batch_size", 1)) * int(p.get("gradient_accumulation_steps", 1))
    batch *= int(state["gpus"]) * int(p.get("num_nodes_finetune", 1))
    ds = f"ds{p.get('deepspeed_stage', '2')}" if p.get("apply_deepspeed", "false") == "true" else "nods"
    lora = "lora" if p.get("apply_lora", "false") == "true" else "nolora"
    parts = [MODEL_NAME, "ultrachat", f"bs{batch}", str(p.get("lr_scheduler_type", "linear")), ds, lora]
    name = "-".join(parts) + f"-save_limit{p.get('save_total_limit', -1)}-seqlen{p.get('max_seq_length', -1)}"
    state["display_name"] = name
    return name


def pipeline_component() -> str:
    component = state["registry"].components.get(name="chat_completion_pipeline", label="latest")
    state["component"] = component
    declared = set(component.inputs.keys())
    state["declared"] = declared
    return f"chat_completion_pipeline {component.version}: {len(declared)} inputs"


def build_pipeline() -> str:
    parameters = dict(state["parameters"])
    # The notebook passes every model-specific default, but learning_rate_min/max are not inputs of the
    # pipeline component: the SDK refuses them by name. Assert that, then drop them.
    extra = sorted(k for k in parameters if k not in state["declared"])
    if extra:
        try:
            _pipeline_with(parameters)
            raise StepFailed(f"the SDK accepted {extra}, which are not inputs of the component")
        except StepFailed:
            raise
        except Exception as err:  # noqa: BLE001
            message = str(err)
            expect(any(k in message for k in extra), f"refused, but not naming {extra}: {message[:300]}")
        for k in extra:
            parameters.pop(k)
    state["pipeline"] = _pipeline_with(parameters)
    return f"pipeline {state['display_name']}" + (f" (dropped {extra}: not component inputs)" if extra else "")


def _pipeline_with(parameters: Dict[str, Any]) -> Any:
    component = state["component"]
    folder = state["data"]

    @pipeline(name=state["display_name"])
    def create_pipeline() -> Dict[str, Any]:
        chat_completion_pipeline = component(
            mlflow_model_path=state["model"].id,
            compute_model_import=CLUSTER_NAME,
            compute_preprocess=CLUSTER_NAME,
            compute_finetune=CLUSTER_NAME,
            compute_model_evaluation=CLUSTER_NAME,
            train_file_path=Input(type="uri_file", path=os.path.join(folder, "train_sft.jsonl")),
            test_file_path=Input(type="uri_file", path=os.path.join(folder, "test_sft.jsonl")),
            number_of_gpu_to_use_finetuning=state["gpus"],
            **parameters,
        )
        return {"trained_model": chat_completion_pipeline.outputs.mlflow_model_folder}

    job = create_pipeline()
    job.settings.force_rerun = True
    job.settings.continue_on_step_failure = False
    return job


def submit_pipeline() -> str:
    job = state["ws"].jobs.create_or_update(state["pipeline"], experiment_name=state["experiment_name"])
    state["job"] = job
    return f"job {job.name}: {job.status}"


def stream_job() -> str:
    state["ws"].jobs.stream(state["job"].name)
    job = state["ws"].jobs.get(state["job"].name)
    expect(job.status == "Completed", f"job {job.name} ended {job.status}")
    return f"job {job.name}: {job.status}"


def mlflow_metrics() -> str:
    import mlflow  # azureml-mlflow registers the azureml:// tracking scheme

    workspace = state["ws"].workspaces.get(os.environ["AZUREML_WORKSPACE_NAME"])
    mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
    runs = mlflow.search_runs(
        experiment_names=[state["experiment_name"]],
        filter_string=f"tags.mlflow.rootRunId = '{state['job'].name}'",
        output_format="list",
    )
    metrics: Dict[str, float] = {}
    for run in runs:
        metrics.update(run.data.metrics)
    expect(any("loss" in k for k in metrics), f"no loss among {sorted(metrics)}")
    return ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())[:6])


def job_outputs() -> str:
    outputs = state["ws"].jobs.get(state["job"].name).outputs
    expect("trained_model" in outputs, f"no trained_model among {sorted(outputs)}")
    return f"outputs {sorted(outputs)}"


def register_model() -> str:
    model = Model(
        path=f"azureml://jobs/{state['job'].name}/outputs/trained_model",
        type=AssetTypes.MLFLOW_MODEL,
        name=f"{MODEL_NAME}-ultrachat-200k".replace("/", "-"),
        version=state["timestamp"],
        description=f"{MODEL_NAME} fine tuned model for ultrachat 200k chat-completion",
    )
    registered = state["ws"].models.create_or_update(model)
    again = state["ws"].models.get(registered.name, version=registered.version)
    expect(again.flavors is not None and "python_function" in again.flavors, f"flavors: {again.flavors}")
    state["registered"] = registered
    return f"{registered.name}:{registered.version} ({sorted(again.flavors)})"


def create_endpoint() -> str:
    name = "ultrachat-completion-" + state["timestamp"]
    endpoint = ManagedOnlineEndpoint(
        name=name,
        description=f"Online endpoint for {state['registered'].name}, fine tuned model for ultrachat-200k-chat-completion",
        auth_mode="key",
    )
    state["ws"].begin_create_or_update(endpoint).wait()
    state["endpoint"] = endpoint
    return f"endpoint {name}"


def deploy() -> str:
    tags = state["model"].tags
    allowed = ast.literal_eval(tags["inference_compute_allow_list"]) if "inference_compute_allow_list" in tags else None
    instance_type = "Standard_NC6s_v3"
    expect(allowed is None or instance_type in allowed, f"{instance_type} not in {allowed}")
    deployment = ManagedOnlineDeployment(
        name="demo",
        endpoint_name=state["endpoint"].name,
        model=state["registered"].id,
        instance_type=instance_type,
        instance_count=1,
        liveness_probe=ProbeSettings(initial_delay=600),
        request_settings=OnlineRequestSettings(request_timeout_ms=90000),
    )
    state["ws"].online_deployments.begin_create_or_update(deployment).wait()
    state["endpoint"].traffic = {"demo": 100}
    state["ws"].begin_create_or_update(state["endpoint"]).result()
    live = state["ws"].online_endpoints.get(state["endpoint"].name)
    expect(live.traffic == {"demo": 100}, f"traffic {live.traffic}")
    return f"deployment demo on {instance_type}, traffic {live.traffic}"


def invoke() -> str:
    with open(os.path.join(state["data"], "test_gen.jsonl"), encoding="utf-8") as f:
        first = json.loads(f.readline())
    request = {
        "input_data": {
            "input_string": [first["messages"]],
            "parameters": {"temperature": 0.6, "top_p": 0.9, "do_sample": True, "max_new_tokens": 200},
        },
        "params": {},
    }
    path = os.path.join(state["data"], "sample_score.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(request, f)
    response = state["ws"].online_endpoints.invoke(
        endpoint_name=state["endpoint"].name, deployment_name="demo", request_file=path
    )
    expect(len(response) > 0, "empty response")
    return f"response {response[:80]}"


def delete_endpoint() -> str:
    name = state["endpoint"].name
    state["ws"].online_endpoints.begin_delete(name=name).wait()
    try:
        state["ws"].online_endpoints.get(name)
    except HttpResponseError as err:
        expect(err.status_code == 404, f"after delete: {err.status_code}")
        return f"endpoint {name} deleted (404 after)"
    raise StepFailed(f"endpoint {name} still answers after its deletion")


STEPS: List[Callable[[], str]] = [
    authenticate,
    workspace_client,
    registry_client,
    foundation_model,
    finetune_allow_list,
    compute_cluster,
    gpus_per_node,
    training_data,
    finetune_parameters,
    display_name,
    pipeline_component,
    build_pipeline,
    submit_pipeline,
    stream_job,
    mlflow_metrics,
    job_outputs,
    register_model,
    create_endpoint,
    deploy,
    invoke,
    delete_endpoint,
]


def main() -> int:
    passed = failed = 0
    for index, step in enumerate(STEPS):
        t0 = time.monotonic()
        try:
            # What the SDK prints (jobs.stream's log lines) goes to stderr: stdout carries the report only.
            with contextlib.redirect_stdout(sys.stderr):
                detail = step()
            passed += 1
            line = {"step": step.__name__, "ok": True, "seconds": round(time.monotonic() - t0, 2), "detail": detail}
        except Exception as err:  # noqa: BLE001 (every failure is reported, then the run stops)
            failed += 1
            line = {
                "step": step.__name__,
                "ok": False,
                "seconds": round(time.monotonic() - t0, 2),
                "error": f"{type(err).__name__}: {err}"[:2000],
                "trace": traceback.format_exc()[-3000:],
            }
            print(json.dumps(line), flush=True)
            not_reached = [s.__name__ for s in STEPS[index + 1 :]]
            print(json.dumps({"summary": {"passed": passed, "failed": failed, "notReached": not_reached}}), flush=True)
            return 1
        print(json.dumps(line), flush=True)
    print(json.dumps({"summary": {"passed": passed, "failed": failed, "notReached": []}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
