-- Validate (data quality): quantities and prices out of range, and net paid that does not add up.
SELECT 'store_sales' AS fact,
  count(*) FILTER (WHERE ss_quantity <= 0) AS bad_quantity,
  count(*) FILTER (WHERE ss_sales_price < 0 OR ss_list_price < 0) AS negative_price,
  count(*) FILTER (WHERE ss_net_paid > ss_ext_list_price) AS paid_above_list
FROM store_sales
UNION ALL
SELECT 'catalog_sales', count(*) FILTER (WHERE cs_quantity <= 0), count(*) FILTER (WHERE cs_sales_price < 0 OR cs_list_price < 0), count(*) FILTER (WHERE cs_net_paid > cs_ext_list_price) FROM catalog_sales
UNION ALL
SELECT 'web_sales', count(*) FILTER (WHERE ws_quantity <= 0), count(*) FILTER (WHERE ws_sales_price < 0 OR ws_list_price < 0), count(*) FILTER (WHERE ws_net_paid > ws_ext_list_price) FROM web_sales
ORDER BY fact;
