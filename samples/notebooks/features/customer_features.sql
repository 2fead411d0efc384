-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Customer features (silver)
-- MAGIC
-- MAGIC Aggregates the last 90 days of bronze orders per customer into the features the churn model
-- MAGIC scores. The `#{...}#` tokens are replaced at deploy time with the stage's pipeline variables.

-- COMMAND ----------

-- The run date comes from the activity's base parameter run_date (a widget, read as :run_date).
CREATE WIDGET TEXT run_date DEFAULT '';

-- COMMAND ----------

USE CATALOG `#{Catalog}#`;
CREATE SCHEMA IF NOT EXISTS churn_silver;

-- COMMAND ----------

CREATE OR REPLACE TABLE churn_silver.customer_features
COMMENT 'Churn model features per customer (#{Environment}#), rebuilt daily by PL_Daily_Churn'
AS
WITH recent AS (
  SELECT *
  FROM churn_bronze.orders
  WHERE order_ts >= date_sub(to_date(:run_date), 90)
    AND order_ts < date_add(to_date(:run_date), 1)
)
SELECT
  customer_id,
  count(*)                                                      AS orders_90d,
  sum(amount)                                                   AS revenue_90d,
  avg(amount)                                                   AS avg_order_value_90d,
  datediff(to_date(:run_date), max(order_ts))                   AS days_since_last_order,
  count(DISTINCT date_trunc('week', order_ts))                  AS active_weeks_90d,
  to_date(:run_date)                                            AS feature_date
FROM recent
GROUP BY customer_id;

-- COMMAND ----------

SELECT count(*) AS customers, min(days_since_last_order) AS min_recency, max(days_since_last_order) AS max_recency
FROM churn_silver.customer_features;
