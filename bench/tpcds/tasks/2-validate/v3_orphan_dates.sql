-- Validate (referential integrity): fact rows whose sold or returned date is not in date_dim.
SELECT 'store_sales' AS fact, count(*) AS orphans FROM store_sales WHERE ss_sold_date_sk IS NOT NULL AND ss_sold_date_sk NOT IN (SELECT d_date_sk FROM date_dim)
UNION ALL SELECT 'catalog_sales', count(*) FROM catalog_sales WHERE cs_sold_date_sk IS NOT NULL AND cs_sold_date_sk NOT IN (SELECT d_date_sk FROM date_dim)
UNION ALL SELECT 'web_sales', count(*) FROM web_sales WHERE ws_sold_date_sk IS NOT NULL AND ws_sold_date_sk NOT IN (SELECT d_date_sk FROM date_dim)
UNION ALL SELECT 'catalog_returns', count(*) FROM catalog_returns WHERE cr_returned_date_sk IS NOT NULL AND cr_returned_date_sk NOT IN (SELECT d_date_sk FROM date_dim)
UNION ALL SELECT 'web_returns', count(*) FROM web_returns WHERE wr_returned_date_sk IS NOT NULL AND wr_returned_date_sk NOT IN (SELECT d_date_sk FROM date_dim)
ORDER BY fact;
