// Databricks notebook source
// MAGIC %md
// MAGIC # Score customers (gold)
// MAGIC
// MAGIC Scores every customer's features with the churn model and appends the predictions to the gold
// MAGIC table. Run by the `Score customers` activity of the Data Factory pipeline `PL_Daily_Churn`
// MAGIC (base parameters `environment`, `run_date`, `model_stage`); ends with a JSON exit value that
// MAGIC the activity output carries as `runOutput`.

// COMMAND ----------

dbutils.widgets.text("environment", "#{Environment}#")
dbutils.widgets.text("run_date", "")
dbutils.widgets.text("model_stage", "Staging")

val environment = dbutils.widgets.get("environment")
val runDate = dbutils.widgets.get("run_date")
val modelStage = dbutils.widgets.get("model_stage")
require(runDate.nonEmpty, "run_date is required (yyyy-MM-dd)")
require(Set("Staging", "Production").contains(modelStage), s"model_stage must be Staging or Production, got $modelStage")

// COMMAND ----------

import org.apache.spark.sql.functions._

val catalog = "#{Catalog}#"
val features = spark.table(s"`$catalog`.churn_silver.customer_features")
  .where(col("feature_date") === to_date(lit(runDate)))

// A logistic score over the features. The coefficients are published by the training job to a
// small Delta table per model stage, so promoting a model needs no notebook change.
val coefficients = spark.table(s"`$catalog`.churn_gold.model_coefficients")
  .where(col("stage") === modelStage)
  .collect()
  .map(r => r.getAs[String]("feature") -> r.getAs[Double]("weight"))
  .toMap
require(coefficients.contains("intercept"), s"no coefficients for model stage $modelStage")

val linear = coefficients.filter { case (name, _) => name != "intercept" }.foldLeft(lit(coefficients("intercept"))) {
  case (acc, (feature, weight)) => acc + coalesce(col(feature).cast("double"), lit(0.0)) * lit(weight)
}
val threshold = 0.5 // conf/settings.json model.churn_threshold
val scored = features
  .withColumn("churn_probability", lit(1.0) / (lit(1.0) + exp(-linear)))
  .withColumn("churn_predicted", col("churn_probability") >= threshold)
  .withColumn("model_stage", lit(modelStage))
  .withColumn("scored_at", current_timestamp())

// COMMAND ----------

scored.write.format("delta").mode("append").saveAsTable(s"`$catalog`.churn_gold.churn_predictions")

val summary = scored.agg(count(lit(1)).as("rows"), avg(col("churn_predicted").cast("double")).as("churn_rate")).first()
val result = s"""{"metrics":{"rows_scored":${summary.getLong(0)},"churn_rate":${Option(summary.get(1)).getOrElse(0.0)},"model_stage":"$modelStage","environment":"$environment"}}"""
dbutils.notebook.exit(result)
