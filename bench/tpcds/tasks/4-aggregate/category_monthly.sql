-- Aggregate: monthly sales per item category and class, all channels.
CREATE OR REPLACE TABLE category_monthly AS
SELECT year, month, category, class, sum(quantity) AS quantity, sum(ext_sales_price) AS sales
FROM (
  SELECT * FROM store_sales_wide
  UNION ALL SELECT * FROM catalog_sales_wide
  UNION ALL SELECT * FROM web_sales_wide
)
GROUP BY year, month, category, class;
