-- Validate (data quality): missing keys in the fact tables.
SELECT 'store_sales' AS fact, count(*) FILTER (WHERE ss_sold_date_sk IS NULL) AS no_date, count(*) FILTER (WHERE ss_customer_sk IS NULL) AS no_customer, count(*) FILTER (WHERE ss_store_sk IS NULL) AS no_outlet, count(*) AS total FROM store_sales
UNION ALL
SELECT 'catalog_sales', count(*) FILTER (WHERE cs_sold_date_sk IS NULL), count(*) FILTER (WHERE cs_bill_customer_sk IS NULL), count(*) FILTER (WHERE cs_call_center_sk IS NULL), count(*) FROM catalog_sales
UNION ALL
SELECT 'web_sales', count(*) FILTER (WHERE ws_sold_date_sk IS NULL), count(*) FILTER (WHERE ws_bill_customer_sk IS NULL), count(*) FILTER (WHERE ws_web_site_sk IS NULL), count(*) FROM web_sales
ORDER BY fact;
