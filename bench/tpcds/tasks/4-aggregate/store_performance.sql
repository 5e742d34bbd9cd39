-- Aggregate: each store's yearly sales, profit and customers, with its state's share.
CREATE OR REPLACE TABLE store_performance AS
SELECT outlet_sk AS store_sk, any_value(outlet_name) AS store_name, year, count(DISTINCT customer_sk) AS customers,
  count(DISTINCT order_number) AS tickets, sum(net_paid) AS net_paid, sum(net_profit) AS net_profit
FROM store_sales_wide
WHERE outlet_sk IS NOT NULL
GROUP BY outlet_sk, year;
