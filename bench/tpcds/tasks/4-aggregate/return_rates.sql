-- Aggregate: store return rates per item category (returned quantity over sold quantity).
CREATE OR REPLACE TABLE return_rates AS
WITH sold AS (SELECT category, sum(quantity) AS sold FROM store_sales_wide GROUP BY category),
returned AS (
  SELECT i.i_category AS category, sum(r.sr_return_quantity) AS returned, sum(r.sr_return_amt) AS returned_amount
  FROM store_returns r JOIN item i ON i.i_item_sk = r.sr_item_sk GROUP BY i.i_category
)
SELECT s.category, s.sold, coalesce(r.returned, 0) AS returned, coalesce(r.returned_amount, 0) AS returned_amount,
  round(coalesce(r.returned, 0)::DOUBLE / nullif(s.sold, 0), 6) AS return_rate
FROM sold s LEFT JOIN returned r ON r.category IS NOT DISTINCT FROM s.category;
