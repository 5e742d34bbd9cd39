-- Aggregate: each customer's lifetime value over the three channels.
CREATE OR REPLACE TABLE customer_lifetime_value AS
SELECT customer_sk, any_value(customer_id) AS customer_id, count(DISTINCT order_number || ':' || channel) AS orders,
  sum(net_paid) AS lifetime_paid, sum(net_profit) AS lifetime_profit, min(sold_date) AS first_purchase, max(sold_date) AS last_purchase
FROM (
  SELECT 'store' AS channel, * FROM store_sales_wide
  UNION ALL SELECT 'catalog', * FROM catalog_sales_wide
  UNION ALL SELECT 'web', * FROM web_sales_wide
)
WHERE customer_sk IS NOT NULL
GROUP BY customer_sk;
