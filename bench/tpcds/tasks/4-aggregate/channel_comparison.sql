-- Aggregate: the three channels side by side per year.
CREATE OR REPLACE TABLE channel_comparison AS
SELECT year, channel, count(DISTINCT customer_sk) AS customers, sum(net_paid) AS net_paid, sum(net_profit) AS net_profit,
  round(sum(net_profit)::DOUBLE / nullif(sum(net_paid), 0), 6) AS margin
FROM (
  SELECT 'store' AS channel, * FROM store_sales_wide
  UNION ALL SELECT 'catalog', * FROM catalog_sales_wide
  UNION ALL SELECT 'web', * FROM web_sales_wide
)
GROUP BY year, channel;
