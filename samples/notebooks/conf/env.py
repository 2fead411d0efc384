# Databricks notebook source
# MAGIC %md
# MAGIC # Environment settings
# MAGIC
# MAGIC Included by the other notebooks with `%run ../conf/env`. The `#{...}#` tokens are replaced at
# MAGIC deploy time by `DatabricksDeployNotebooks@1` (`replaceTokens: true`) with the pipeline variables of
# MAGIC the stage (`Environment`, `Catalog`, `StorageAccount`), so the same source deploys to dev, test
# MAGIC and prod. Table names and thresholds that do not depend on the environment are in `settings.json`
# MAGIC beside this notebook (a workspace file, read as plain JSON).

# COMMAND ----------

import json
import os
import sys

ENVIRONMENT = "#{Environment}#"
CATALOG = "#{Catalog}#"
STORAGE_ACCOUNT = "#{StorageAccount}#"

# %run executes this notebook in the caller's context, so notebookPath() is the caller's path; every
# notebook that includes this one sits one folder below the project root (ingest/, features/, ...).
_caller = dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get()
_project_root = os.path.dirname(os.path.dirname("/Workspace" + _caller))
if _project_root not in sys.path:
    sys.path.append(_project_root)

with open(os.path.join(_project_root, "conf", "settings.json"), encoding="utf-8") as f:
    SETTINGS = json.load(f)


def table(layer, name):
    """Fully qualified name of a table of the medallion layer (bronze, silver, gold) in this environment."""
    schema = SETTINGS["schemas"][layer]
    return f"`{CATALOG}`.`{schema}`.`{name}`"


def landing_path(folder):
    """abfss:// path of a folder in the landing container of this environment's storage account."""
    return f"abfss://{SETTINGS['containers']['landing']}@{STORAGE_ACCOUNT}.dfs.core.windows.net/{folder}"


print(f"environment={ENVIRONMENT} catalog={CATALOG} storage={STORAGE_ACCOUNT}")
