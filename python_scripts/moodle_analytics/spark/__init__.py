"""The project on Apache Spark: Moodle tables as Parquet, SQL layers built by
dbt-spark, risk scores computed on DuckDB from the features Spark wrote."""
