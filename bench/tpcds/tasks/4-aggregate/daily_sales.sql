-- Aggregate: daily sales per channel.
CREATE OR REPLACE TABLE daily_sales AS
SELECT sold_date, channel, count(*) AS lines, sum(quantity) AS quantity, sum(net_paid) AS net_paid, sum(net_profit) AS net_profit
FROM (
  SELECT 'store' AS channel, * FROM store_sales_wide
  UNION ALL SELECT 'catalog', * FROM catalog_sales_wide
  UNION ALL SELECT 'web', * FROM web_sales_wide
)
GROUP BY sold_date, channel;
