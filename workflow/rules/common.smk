# Helpers of the rules: config validation, the run plan, paths and per-job arguments.
# Everything here runs while Snakemake builds the job graph (no job has started yet).

import os
import shlex

from jsonschema.exceptions import ValidationError
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate
from snakemake_interface_executor_plugins.settings import DeploymentMethod

from heterodyne.batch.workflow import (
    SIMULATED_DIRECTORY,
    HeterodyneError,
    JobRequest,
    Node,
    Submission,
    check_node,
    check_rule_command,
    figure_stem,
    flow,
    format_validation_error,
    plan_workflow,
    retry_mem_mb,
)

try:
    validate(config, "../schemas/config.schema.yaml")
except WorkflowError as error:
    if not isinstance(error.__context__, ValidationError):  # validate() raises while handling it
        raise
    key, message = format_validation_error(error.__context__)
    raise WorkflowError(f"invalid workflow config: {key}: {message}") from None

# The rules' `heterodyne` is part of the runtime environment, which `snakemake --lint` does not
# need: Snakemake reads the workflow for linting with check_envvars off (nor does it check the
# declared environment variables then). With --use-conda the rules run envs/heterodyne.yaml's.
if workflow.check_envvars and DeploymentMethod.CONDA not in workflow.deployment_settings.deployment_method:
    try:
        check_rule_command()
    except HeterodyneError as error:
        raise WorkflowError(str(error)) from None

try:
    PLAN = plan_workflow(config)
    if "cmc" in PLAN.methods:
        SHARDS = {key: run.n_shards() for key, run in PLAN.runs.items()}
    # a shard job's threads: its chains side by side (the most chains of any run)
    SHARD_THREADS = max((run.shard_threads() for run in PLAN.runs.values()), default=1)
except HeterodyneError as error:
    raise WorkflowError(f"invalid workflow config: {error}") from None

NODE = Node(config["node_cpus"], config["node_mem_mb"])
SIMULATE_MEM_MB = 1024
RESULTS = config["results"]
PLOTS = config["plots"]
SIMULATED = f"{RESULTS}/{SIMULATED_DIRECTORY}"
RUN = f"{RESULTS}/{{dataset}}/{{point}}/seed{{seed}}"
ENV = "../envs/heterodyne.yaml"
POINT = r"[A-Za-z0-9][A-Za-z0-9_.=+-]*"


wildcard_constraints:
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.=+-]*",
    name=r"[A-Za-z0-9][A-Za-z0-9_.=+-]*",
    point=POINT,
    seed=r"\d+",
    shard=r"\d+",
    method=r"nlsq|cmc",


def run_of(wildcards):
    """The planned run of a job's {dataset}, {point} and {seed}."""
    return PLAN.run(wildcards.dataset, wildcards.point, int(wildcards.seed))


def dataset_file(wildcards):
    """The HDF5 file of the job's dataset (the simulate rule's output for simulated ones)."""
    return PLAN.datasets[wildcards.dataset].path


def simulate_arguments(wildcards):
    """`heterodyne simulate` options of a simulated dataset."""
    settings = PLAN.datasets[wildcards.name].simulation
    options = [
        f"--frames {settings['frames']}",
        f"--seed {settings['seed']}",
        f"--noise {settings['noise']!r}",
        f"--layout {settings['layout']}",
    ]
    options += [f"--set {name}={value!r}" for name, value in settings["truth"].items()]
    if "velocity_jump" in settings:
        jump = settings["velocity_jump"]
        options += [f"--jump-time {jump['time']!r}", f"--jump-factor {jump['factor']!r}"]
    return " ".join(options)


def override_arguments(wildcards):
    """`--set KEY=VALUE` options of a run (the dataset's overrides and the sweep values), quoted."""
    return " ".join(
        f"--set {shlex.quote(f'{key}={flow(value)}')}" for key, value in run_of(wildcards).overrides.items()
    )


def shard_files(wildcards):
    """The K shard files of a run (K from the data shape and the run's CMC settings)."""
    count = SHARDS[(wildcards.dataset, wildcards.point, int(wildcards.seed))]
    return [
        f"{RESULTS}/{wildcards.dataset}/{wildcards.point}/seed{wildcards.seed}/cmc/shards/shard_{k}.npz"
        for k in range(count)
    ]


def summary_inputs(wildcards):
    """The result.json of every run and method."""
    return [f"{RESULTS}/{run.directory}/{method}/result.json" for run in PLAN.runs.values() for method in PLAN.methods]


def summary_outputs():
    """summary.csv and comparison.csv, and stability.csv when there are several seeds."""
    outputs = {"summary": f"{RESULTS}/summary.csv", "comparison": f"{RESULTS}/comparison.csv"}
    if len(PLAN.seeds) > 1:
        outputs["stability"] = f"{RESULTS}/stability.csv"
    return outputs


def summary_arguments(wildcards, output):
    """`heterodyne summarize` options: the results root, the sweep keys, the stability table."""
    options = [f"--root {shlex.quote(RESULTS)}"]
    options += [f"--sweep-key {shlex.quote(key)}" for key in PLAN.sweep_keys]
    if "stability" in output.keys():
        options.append(f"--stability {shlex.quote(output.stability)}")
    return " ".join(options)


def trend_files():
    """The figures `heterodyne trends` writes into RESULTS/trends/, by name: one per sweep key
    (against the run name without a sweep) and, when runs have CMC rows too, NLSQ against CMC."""
    stems = [figure_stem(key) for key in PLAN.sweep_keys or ["run"]]
    if "cmc" in PLAN.methods:
        stems.append("nlsq_vs_cmc")
    return {stem: f"{RESULTS}/trends/{stem}.png" for stem in stems}


RUN_POINTS = [(point, seed) for point in PLAN.points for seed in PLAN.seeds]
"""(point, seed) of each global run of a dataset: the same for every dataset, as the sweep and seeds are
(the window runs, config `windows` and a dataset's own, depend on the dataset's frames: PLAN.windows)."""
WINDOW_METHOD = "cmc" if "cmc" in PLAN.methods else "nlsq"
"""The method directory windows.csv reads (a CMC run's holds its NLSQ result too)."""


NLSQ_POINTS = POINT if config["nlsq_jobs"] == "per_run" else r"window=\d+-\d+"
"""The points whose NLSQ fit is a job of its own: all, or with per-dataset NLSQ jobs the windows only."""


def window_files(wildcards, suffix):
    """RESULTS/<dataset>/<window>/seed<seed>/<suffix> of every window run of the job's dataset."""
    return [
        f"{RESULTS}/{wildcards.dataset}/{window}/seed{seed}/{suffix}"
        for window in PLAN.windows[wildcards.dataset]
        for seed in PLAN.seeds
    ]


def window_outputs(dataset):
    """windows.csv, changepoints.csv and (with plots) windows.png of a dataset."""
    outputs = {"table": f"{RESULTS}/{dataset}/windows.csv", "change_points": f"{RESULTS}/{dataset}/changepoints.csv"}
    if PLOTS:
        outputs["figure"] = f"{RESULTS}/{dataset}/windows.png"
    return outputs


def window_arguments(wildcards, input, output):
    """`heterodyne windows` arguments: the window runs, the global run of each seed, the outputs."""
    options = [shlex.quote(os.path.dirname(path)) for path in input.windows]
    options += [f"--global {shlex.quote(os.path.dirname(path))}" for path in input.globals]
    options += [f"--table {shlex.quote(output.table)}", f"--change-points {shlex.quote(output.change_points)}"]
    if "figure" in output.keys():
        options.append(f"--figure {shlex.quote(output.figure)}")
    return " ".join(options)


COMPARISON = config["model_comparison"]
"""The reductions each global run's `compare` job tests: all (true), those listed, or none (false)."""


def global_runs():
    """The planned runs that are not windows along the age."""
    return [run for run in PLAN.runs.values() if run.point.name not in PLAN.windows[run.dataset.name]]


def comparison_arguments(wildcards):
    """`--reduction NAME` of each reduction a run's `compare` job tests (nothing: all of them)."""
    return "" if COMPARISON is True else " ".join(f"--reduction {name}" for name in COMPARISON)


def comparison_tables(wildcards):
    """The model_comparison.csv of every global run."""
    return [f"{RESULTS}/{run.directory}/nlsq/model_comparison.csv" for run in global_runs()]


def collect_arguments(wildcards, input):
    """`heterodyne compare --collect` arguments: the run directories, the results root, the sweep keys."""
    options = [shlex.quote(os.path.dirname(path)) for path in input]
    options.append(f"--root {shlex.quote(RESULTS)}")
    options += [f"--sweep-key {shlex.quote(key)}" for key in PLAN.sweep_keys]
    return " ".join(options)


def window_inherit(dataset):
    """The parameters a dataset's windows hold at its global run's estimate (none without windows)."""
    settings = PLAN.window_settings[dataset]
    return settings["inherit"] if settings else []


def run_config_inputs(wildcards):
    """A run.yaml's inputs: the base config and the data; for a window that inherits values, the
    global run's NLSQ result of its seed."""
    inputs = {"analysis": config["analysis"], "data": dataset_file(wildcards)}
    if window_inherit(wildcards.dataset) and wildcards.point in PLAN.windows[wildcards.dataset]:
        inputs["global_result"] = (
            f"{RESULTS}/{wildcards.dataset}/{PLAN.points[0]}/seed{wildcards.seed}/nlsq/result.json"
        )
    return inputs


def inherit_arguments(wildcards, input):
    """`--inherit-from RESULT --inherit NAME ...` of a window that inherits values, else nothing."""
    if "global_result" not in input.keys():
        return ""
    return " ".join(
        [f"--inherit-from {shlex.quote(input.global_result)}"]
        + [f"--inherit {name}" for name in window_inherit(wildcards.dataset)]
    )


PLOT_RUNS = [(point, seed, method) for point, seed in RUN_POINTS for method in PLAN.methods]


def plot_results(wildcards):
    """The result.json of every run and method of the job's dataset, in PLOT_RUNS order."""
    return [
        f"{RESULTS}/{wildcards.dataset}/{point}/seed{seed}/{method}/result.json" for point, seed, method in PLOT_RUNS
    ]


def dataset_mem_mb(dataset, threads):
    """A job over a dataset's runs (per-dataset NLSQ, plots): its largest run's NLSQ estimate per
    worker process."""
    return threads * max(run.nlsq_mem_mb() for key, run in PLAN.runs.items() if key[0] == dataset)


def submission(rule):
    """How the jobs of ``rule`` are submitted: alone, or in its group (profile `groups`), k at a time."""
    group = workflow.group_settings.overwrite_groups.get(rule)
    return Submission(group, 1 if group is None else workflow.group_settings.group_components.get(group, 1))


def attempt_mem_mb(rule, estimate_mb, attempt):
    """mem_mb of a job's attempt: the estimate, times the attempt on retries, within its share of a node."""
    return retry_mem_mb(estimate_mb, attempt, NODE, submission(rule).jobs)


def rule_threads(rule):
    """Threads of one job of ``rule`` as Snakemake runs it: the rule's (or set-threads) value, lowered
    to max-threads and --cores."""
    threads = workflow.get_rule(rule).resources["_cores"].value
    limits = (workflow.resource_settings.max_threads, workflow.resource_settings.cores)
    return min([threads, *(limit for limit in limits if limit is not None)])


def job_requests():
    """The first-attempt threads and memory of every planned job that is submitted (not the local rules)."""
    requests = [
        JobRequest("simulate", f"dataset {name}", rule_threads("simulate"), SIMULATE_MEM_MB)
        for name, dataset in PLAN.datasets.items()
        if dataset.simulation is not None
    ]
    for run in PLAN.runs.values():
        where = f"run {run.directory}"
        if config["nlsq_jobs"] == "per_run" or run.point.name in PLAN.windows[run.dataset.name]:
            requests.append(JobRequest("nlsq", where, rule_threads("nlsq"), run.nlsq_mem_mb()))
        if "cmc" in PLAN.methods:
            requests.append(
                JobRequest("cmc_shard", where, rule_threads("cmc_shard"), run.shard_mem_mb(rule_threads("cmc_shard")))
            )
            requests.append(JobRequest("cmc_combine", where, rule_threads("cmc_combine"), run.combine_mem_mb()))
    if COMPARISON:
        requests += [
            JobRequest("compare", f"run {run.directory}", rule_threads("compare"), run.nlsq_mem_mb())
            for run in global_runs()
        ]
    per_dataset = (
        (["nlsq_dataset"] if config["nlsq_jobs"] == "per_dataset" else [])
        + (["plot"] if PLOTS else [])
        + (["preview"] if config["preview"] else [])
    )
    for rule_name in per_dataset:
        threads = rule_threads(rule_name)
        requests += [
            JobRequest(rule_name, f"dataset {name}", threads, dataset_mem_mb(name, threads)) for name in PLAN.datasets
        ]
    return requests


def check_node_size():
    """Stop before any job when a job or group asks for more than the declared node (node_cpus, node_mem_mb).

    Snakemake sets the groups (profile `groups`, `group-components`) after reading the Snakefile:
    called while the Snakefile is read, this checks the jobs one by one; called again by all_targets,
    as the job graph is built, it checks the groups too."""
    try:
        check_node(job_requests(), {rule.name: submission(rule.name) for rule in workflow.rules}, NODE)
    except HeterodyneError as error:
        raise WorkflowError(f"invalid workflow config: {error}") from None


def figure_targets():
    """Every global run's plots/ directory per method and the trend figures (the windows are drawn
    together in windows.png); none when plots are off."""
    if not PLOTS:
        return []
    runs = [f"{RESULTS}/{run.directory}/{method}/plots" for run in global_runs() for method in PLAN.methods]
    return runs + list(trend_files().values())


def preview_targets():
    """Every dataset's preview/ directory when previews are on."""
    return [f"{RESULTS}/{name}/preview" for name in PLAN.datasets] if config["preview"] else []


def window_targets():
    """windows.csv, changepoints.csv and windows.png of every dataset that has windows."""
    return [path for name in PLAN.datasets if PLAN.window_settings[name] for path in window_outputs(name).values()]


def comparison_targets():
    """The table of the model comparison across runs when config `model_comparison` asks for one."""
    return [f"{RESULTS}/model_comparison.csv"] if COMPARISON else []


def all_targets(wildcards):
    """The workflow's outputs (summary tables, figures, previews, windows, model comparison), once
    every job and group is known to fit a node."""
    check_node_size()
    return [
        *summary_outputs().values(),
        *figure_targets(),
        *preview_targets(),
        *window_targets(),
        *comparison_targets(),
    ]
