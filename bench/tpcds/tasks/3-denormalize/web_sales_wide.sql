-- Denormalize: web sales joined with their date, item, customer, address and web site.
CREATE OR REPLACE TABLE web_sales_wide AS
SELECT s.ws_order_number AS order_number, s.ws_item_sk AS item_sk, s.ws_bill_customer_sk AS customer_sk,
  d.d_date AS sold_date, d.d_year AS year, d.d_moy AS month,
  i.i_category AS category, i.i_class AS class, i.i_brand AS brand,
  c.c_customer_id AS customer_id, ca.ca_state AS state,
  s.ws_web_site_sk AS outlet_sk, w.web_name AS outlet_name,
  s.ws_quantity AS quantity, s.ws_sales_price AS sales_price, s.ws_ext_sales_price AS ext_sales_price,
  s.ws_net_paid AS net_paid, s.ws_net_profit AS net_profit
FROM web_sales s
JOIN date_dim d ON d.d_date_sk = s.ws_sold_date_sk
JOIN item i ON i.i_item_sk = s.ws_item_sk
LEFT JOIN customer c ON c.c_customer_sk = s.ws_bill_customer_sk
LEFT JOIN customer_address ca ON ca.ca_address_sk = c.c_current_addr_sk
LEFT JOIN web_site w ON w.web_site_sk = s.ws_web_site_sk;
